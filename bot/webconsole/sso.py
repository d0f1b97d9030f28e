"""The sign-in pages of the identity providers (OpenID Connect, Slack): away to the provider, and back.

A refused sign-in counts as a wrong token does (see ``FailedSignIns``) and says why in plain
words; the session cookie is only written once the ID token passed every check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .auth import NEW_SESSION, PREFIX, Session
from .oidc import PendingSignIn, SignInFlow, SignInRefused
from .pages import next_page

if TYPE_CHECKING:
    from .console import Console

__all__ = ["SingleSignOn"]


class SingleSignOn:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.flows = {provider.key: SignInFlow(provider) for provider in console.providers}

    async def start(self, request: web.Request) -> web.Response:
        """Off to the provider, with this sign-in's state, nonce and PKCE verifier kept in a cookie."""
        flow = self._flow(request)
        try:
            url, pending = await flow.start(self._redirect_uri(request, flow), next_page(request.query.get("next")))
        except SignInRefused as exc:
            return self._refused(request, str(exc), 502)
        response = web.Response(status=302, headers={"Location": url})
        self.console.codec.write_pending(response, pending.to_json(), request)
        return response

    async def finish(self, request: web.Request) -> web.Response:
        """Back from the provider: check its answer and the ID token, then sign the person in."""
        flow = self._flow(request)
        address = request.remote or "?"
        failures = self.console.failed_sign_ins
        if failures.blocked(address):
            return self._refused(request, "Too many refused sign-ins from your address: wait a minute.", 429)
        pending = PendingSignIn.from_json(self.console.codec.read_pending(request))
        try:
            if pending is None:
                raise SignInRefused("this browser has no sign-in under way (or it took over ten minutes); try again")
            name = await flow.finish(request.query, pending, self._redirect_uri(request, flow))
        except SignInRefused as exc:
            failures.failed(address)
            return self._refused(request, str(exc), 403)
        request[NEW_SESSION] = Session.signed_in(name)
        response = web.Response(status=303, headers={"Location": pending.next})
        self.console.codec.clear_pending(response)
        return response

    def _flow(self, request: web.Request) -> SignInFlow:
        flow = self.flows.get(request.match_info["provider"])
        if flow is None:
            raise web.HTTPNotFound(text="no such sign-in: the console's sign-in page lists those configured")
        return flow

    def _redirect_uri(self, request: web.Request, flow: SignInFlow) -> str:
        origin = self.console.public_url or f"{request.scheme}://{request.host}"
        return f"{origin}{PREFIX}/sign-in/{flow.provider.key}/callback"

    def _refused(self, request: web.Request, why: str, status: int) -> web.Response:
        response = self.console.render(
            "sign_in.html", request, status=status, next=f"{PREFIX}/", error=f"Sign-in refused: {why}"
        )
        self.console.codec.clear_pending(response)
        return response
