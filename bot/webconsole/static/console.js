// Live pages: new messages, the side panel and a web thread's posts arrive as server-sent events.
// The server renders and escapes every fragment; this only places them.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var messages = document.getElementById("messages");
  var panel = document.getElementById("panel");
  var thread = document.getElementById("thread");
  if (messages) {
    var source = new EventSource(messages.getAttribute("data-events"));
    source.addEventListener("message", function (event) {
      var holder = document.createElement("div");
      holder.innerHTML = event.data;
      var article = holder.firstElementChild;
      if (article && !document.getElementById(article.id)) { messages.appendChild(article); }
    });
    source.addEventListener("panel", function (event) { panel.innerHTML = event.data; });
  }
  if (thread) {
    var posts = new EventSource(thread.getAttribute("data-events"));
    posts.addEventListener("posts", function (event) { thread.innerHTML = event.data; });
  }
})();
