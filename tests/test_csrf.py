"""Cross-site form posts are refused (app/web/csrf.py)."""
import pytest

from helpers import everything, page_session


@pytest.mark.parametrize("headers, allowed", [
    ({"Origin": "http://testserver"}, True),
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"HX-Request": "true"}, True),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "null"}, False),
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({}, False),
])
def test_cross_site_form_posts_are_refused(client, headers, allowed):
    sid = page_session(client)
    before = everything(client, sid)
    for path in ("/ui/step", "/ui/reset", "/ui/share"):
        r = client.post(path, headers=headers, follow_redirects=False)
        assert (r.status_code in (200, 303)) if allowed else (r.status_code == 403 and "Cross-site" in r.text)
    if not allowed:
        assert everything(client, sid) == before
