"""Predict, then reveal (issue 14 §2): a guess before Backward and before Update, set beside the real value."""
import html
import re

from helpers import HX


def strip(text: str) -> str:
    m = re.search(r'<div id="guess".*?</div>', text, re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", m[0]))).strip() if m else ""


def phase(client, times=1):
    for _ in range(times):
        r = client.post("/ui/phase", headers=HX)
    return r


def test_a_delta_and_a_weight_change_guessed_then_revealed_on_mazurs_step(client):
    client.get("/?preset=mazur")
    assert "Before Backward" not in strip(phase(client).text)  # after Forward: the loss comes next
    r = phase(client)
    assert "Before Backward, predict δ(o1) δ(o2) =" in strip(r.text)
    client.post("/ui/guess", headers=HX, data={"kind": "delta", "target": "0", "value": "0.14"})
    r = phase(client)  # Backward (output)
    assert "You guessed δ(o1) = 0.14; it is 0.138499: off by 0.00150144 (1.1%)." in strip(r.text)
    assert re.search(r'class="guess-result" data-off="0.001501438371443\d*"', r.text)
    r = phase(client)  # Backward (hidden 1): the update is next
    assert "Before Update, predict how w5 (h1 → o1)" in strip(r.text)
    client.post("/ui/guess", headers=HX, data={"kind": "change", "target": "1.0.0", "sign": "up", "value": "0.04"})
    r = phase(client)  # Update
    assert ("You guessed w5 would go up by 0.04; it went down by 0.0410835: the wrong direction, off by 0.0810835 "
            "(197.4%).") in strip(r.text)
    r = phase(client)  # the next step's forward: a new step, no old results
    assert strip(r.text) == ""


def test_a_guess_out_of_place_or_not_a_number_is_refused_beside_the_form(client):
    client.get("/?preset=mazur")
    r = client.post("/ui/guess", headers=HX, data={"kind": "delta", "target": "0", "value": "0.1"})
    assert "Nothing was guessed: a guess comes in a detailed step, before Backward or before Update." in r.text
    phase(client, 2)
    r = client.post("/ui/guess", headers=HX, data={"kind": "delta", "target": "0", "value": "lots"})
    assert 'id="guess-error" class="field-error" role="alert">Type a number.' in r.text
    assert 'value="lots"' in r.text
    r = client.post("/ui/guess", headers=HX, data={"kind": "delta", "target": "7", "value": "0.1"})
    assert "Pick a δ or a weight from the list." in html.unescape(r.text)
    r = phase(client)
    assert "You guessed" not in strip(r.text)


def test_no_guesses_outside_detailed_mode(client):
    client.get("/")
    r = client.post("/ui/step", headers=HX)
    assert strip(r.text) == ""
