// Live transcript: new messages and the side panel arrive as server-sent events.
// The server renders and escapes every fragment; this only places them.
(function () {
  "use strict";
  var messages = document.getElementById("messages");
  var panel = document.getElementById("panel");
  if (!messages || !window.EventSource) { return; }
  var source = new EventSource(messages.getAttribute("data-events"));
  source.addEventListener("message", function (event) {
    var holder = document.createElement("div");
    holder.innerHTML = event.data;
    var article = holder.firstElementChild;
    if (article && !document.getElementById(article.id)) { messages.appendChild(article); }
  });
  source.addEventListener("panel", function (event) { panel.innerHTML = event.data; });
})();
