"""Answers htmx does not swap (a rate limit, a busy session, a failure) still reach the page as a message."""
import json
import re

from playwright.sync_api import expect

from .waits import answered


def open_page(page, live_server):
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")


def refuse(status: int, detail, retry_after: str | None = None, times: int | None = None):
    """A route handler answering `status` with {"detail": ...}, the first `times` times (None: always)."""
    count = {"n": 0}

    def handler(route):
        if times is not None and count["n"] >= times:
            return route.continue_()
        count["n"] += 1
        headers = {"Retry-After": retry_after} if retry_after else {}
        route.fulfill(status=status, headers=headers, content_type="application/json",
                      body=json.dumps({"detail": detail}))
    return handler, count


def test_a_rate_limited_step_says_so_and_changes_nothing(page, live_server, console_errors):
    open_page(page, live_server)
    handler, _ = refuse(429, "Too many steps: at most 60 a second (bursts of 120). Try again in 2 s.", "2")
    page.route("**/ui/step", handler)
    page.get_by_role("button", name="Step", exact=True).click()
    alert = page.locator("#message .message.error")
    expect(alert).to_have_text("Too many steps: at most 60 a second (bursts of 120). Try again in 2 s. "
                               "Nothing was changed.")
    expect(page.locator("#metric-step")).to_have_text("0")
    page.unroute("**/ui/step")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#metric-step")).to_have_text("1")
    expect(alert).to_have_count(0)  # the next answer's panels replace the message
    assert all("429" in e or "responseError" in e for e in console_errors), console_errors


def test_failures_without_a_message_are_still_reported(page, live_server, console_errors):
    open_page(page, live_server)
    page.route("**/ui/step", lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>"))
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#message .message.error")).to_have_text(
        "The server could not do that (error 502). Nothing was changed; try again.")
    page.route("**/ui/step", lambda route: route.abort())
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#message .message.error")).to_contain_text("The server did not answer")
    expect(page.locator("#metric-step")).to_have_text("0")


def test_play_waits_out_a_rate_limit_then_goes_on(page, live_server, console_errors):
    open_page(page, live_server)
    handler, count = refuse(429, "Too many steps: at most 60 a second (bursts of 120). Try again in 1 s.", "1",
                            times=1)
    page.route("**/ui/play/stream*", handler)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.locator("#message .message.error")).to_contain_text("Too many steps")
    page.wait_for_function("() => +document.getElementById('network').dataset.step >= 10", timeout=10_000)
    assert count["n"] == 1
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()


def test_a_csv_over_the_cap_is_refused_beside_its_control_without_being_sent(page, live_server, console_errors,
                                                                             tmp_path):
    open_page(page, live_server)
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/ui/upload" in r.url else None)
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,y\n" + b"1,2\n" * 300_000)  # 1.2 MB, over the 1 MB cap
    page.get_by_text("Your own data (CSV)").click()
    page.set_input_files("#f-csv", str(big))
    page.get_by_role("button", name="Load data").click()
    expect(page.locator("#f-csv-size")).to_have_text("big.csv is 1,201 KB; the limit is 1,000 KB. "
                                                     "Choose a smaller file.")
    assert sent == [] and console_errors == []
    small = tmp_path / "small.csv"
    small.write_text("a,y\n1,2\n3,4\n5,7\n")
    page.set_input_files("#f-csv", str(small))
    expect(page.locator("#f-csv-size")).to_have_count(0)
    page.get_by_role("button", name="Load data").click()
    expect(page.locator("#message")).to_contain_text("Loaded small.csv: predicting y (regression), with a linear output")


def test_a_refused_setting_puts_the_control_back_to_the_setting_in_use(page, live_server, console_errors):
    open_page(page, live_server)
    handler, _ = refuse(429, "Too many setting changes: at most 5 a second (bursts of 30). Try again in 1 s.", "1")
    page.route("**/ui/config", handler)
    rate = page.locator("#f-learning_rate")
    rate.fill("0.5")
    rate.press("Tab")
    expect(page.locator("#message .message.error")).to_contain_text("Too many setting changes")
    expect(rate).to_have_value("0.03")  # what the engine still uses, not what was refused


def test_a_second_and_third_csv_upload_predict_their_own_last_column(playground, tmp_path):
    """Choosing a new file resets Target columns to that file's last column, so each upload works."""
    page = playground
    files = {"houses.csv": "size_m2,rooms,price\n50,2,100\n80,3,160\n120,4,240\n60,2,120\n90,3,180\n",
             "scores.csv": 'hours,"sleep",score\n2,9,92\n1,5,86\n3,6,89\n4,8,95\n',
             "plain.csv": "a,b\n1,2\n2,4\n3,6\n4,8\n"}
    page.locator("details.upload summary").click()
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        page.set_input_files("#f-csv", str(path))
        last = text.splitlines()[0].split(",")[-1]
        expect(page.locator("#f-targets")).to_have_value(last)
        page.locator("details.upload button[type=submit]").click()
        expect(page.locator("#message")).to_contain_text(f"Loaded {name}: predicting {last}")
        if page.locator("details.upload").get_attribute("open") is None:  # the redrawn form may be closed
            page.locator("details.upload summary").click()


def test_a_price_usd_upload_reads_in_dollars_and_a_new_file_reads_its_own_unit(playground, tmp_path):
    """The unit is read from the target column's name, shown in the form to correct, used in the metrics after a
    Step, and a newly chosen file clears it so that its own column name is read."""
    page = playground
    homes = tmp_path / "homes.csv"
    homes.write_text("size_m2,rooms,price_usd\n48,1,152300\n65,2,181500\n80,3,212000\n95,3,239900\n"
                     "120,4,287500\n55,2,164000\n72,2,196800\n88,3,226400\n")
    page.locator("details.upload summary").click()
    page.set_input_files("#f-csv", str(homes))
    with answered(page, "/ui/upload"):
        page.get_by_role("button", name="Load data").press("Enter")  # the keyboard alone
    expect(page.locator("#message")).to_contain_text("Its values are in dollars ($), read from the column name "
                                                     "price_usd")
    expect(page.locator("#f-unit")).to_have_value("$")
    expect(page.locator("#metric-step")).to_have_text("0")
    with answered(page, "/ui/step"):
        page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#metric-train-rmse")).to_have_text(re.compile(r"^\$[0-9]{1,3}(,[0-9]{3})*$"))
    expect(page.locator("#loss-hint")).to_contain_text("the RMSE above is in dollars")
    if page.locator("details.upload").get_attribute("open") is None:
        page.locator("details.upload summary").click()
    weights = tmp_path / "weights.csv"
    weights.write_text("height_cm,weight_kg\n150,50\n160,58\n170,66\n180,75\n190,84\n")
    page.set_input_files("#f-csv", str(weights))
    expect(page.locator("#f-unit")).to_have_value("")
    with answered(page, "/ui/upload"):
        page.get_by_role("button", name="Load data").click()
    expect(page.locator("#message")).to_contain_text("Its values are in kg, read from the column name weight_kg")
    with answered(page, "/ui/step"):
        page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#metric-train-rmse")).to_have_text(re.compile(r"^[0-9.,]+ kg$"))


def test_a_bad_unit_is_refused_beside_its_field(playground, tmp_path):
    page = playground
    homes = tmp_path / "homes.csv"
    homes.write_text("size_m2,price_usd\n48,152300\n65,181500\n80,212000\n")
    page.locator("details.upload summary").click()
    page.set_input_files("#f-csv", str(homes))
    page.fill("#f-unit", "<b>$</b>")
    with answered(page, "/ui/upload"):
        page.get_by_role("button", name="Load data").click()
    expect(page.locator("#error-unit")).to_contain_text("may not contain angle brackets")
    expect(page.locator("#f-unit")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#metric-train-rmse")).to_have_count(0)  # still the circle: nothing changed
