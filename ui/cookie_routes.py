"""The HTTP route that sets and clears the login cookie (mounted by server.py on Streamlit's st.App).

Streamlit's script runs over a WebSocket and cannot answer with a `Set-Cookie` header;
an HttpOnly cookie has to come from an HTTP response. `POST /_survey/session` with a
one-time handoff code (survey.sessions) answers 204 with the signed session cookie:
HttpOnly, SameSite=Strict, Secure over HTTPS, Max-Age of the session's lifetime.
`DELETE` revokes the session the cookie names and clears the cookie. Nothing else.
"""
from __future__ import annotations

from typing import Any

from survey import sessions

ROUTE = "/_survey/session"


def _store() -> Any:
    from survey.bootstrap import open_store
    return open_store()


def _secure(request: Any) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


async def session_endpoint(request: Any) -> Any:
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    if request.method == "DELETE":
        cookie = request.cookies.get(sessions.SESSION_COOKIE)
        await run_in_threadpool(lambda: sessions.end(_store(), cookie=cookie))
        response = Response(status_code=204)
        response.delete_cookie(sessions.SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                               secure=_secure(request))
        return response
    code = (await request.body())[:200].decode("ascii", "replace").strip()
    value = await run_in_threadpool(lambda: sessions.redeem(_store(), code))  # the store blocks: off the event loop
    if value is None:
        return Response(status_code=403)
    response = Response(status_code=204)
    response.set_cookie(sessions.SESSION_COOKIE, value, max_age=sessions.SESSION_HOURS * 3600, path="/",
                        httponly=True, samesite="strict", secure=_secure(request))
    return response


def routes() -> list[Any]:
    from starlette.routing import Route
    return [Route(ROUTE, session_endpoint, methods=["POST", "DELETE"])]
