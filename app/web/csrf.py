"""Cross-site request forgery: the page's state changes only by POST, and only from this site.

htmx sends `HX-Request`, a header a cross-site page cannot add without a CORS preflight, which this app never
grants. A plain form post (the page without JavaScript) carries `Origin` (or `Sec-Fetch-Site`), which every
current browser sets and no page can forge; it must name this host.
"""
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

REFUSED = "Cross-site form posts are refused. Use the page itself, or the JSON API for scripts."


async def same_site_post(request: Request) -> None:
    if request.method != "POST" or "hx-request" in request.headers:
        return
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        if urlsplit(origin).netloc == request.headers.get("host"):
            return
    elif request.headers.get("sec-fetch-site") == "same-origin":
        return
    raise HTTPException(403, REFUSED)
