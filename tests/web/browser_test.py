#!/usr/bin/env python3
"""oneseal-web in a real browser (#18): Debian's chromium driven by Selenium.

    python3 tests/web/browser_test.py CONFIG.json

CONFIG (written by Tests/EndToEndTests/WebFrontTests.swift against a live two-node cluster):
  {"screenshots": DIR, "county_web": URL, "city_web": URL, "qr_url": URL, "more_qr_urls": [URL, …],
   "progress": {"number": "...", "code": "..."}}

Checks, at desktop and phone widths: the licence's QR URL → authentic, and the four in-browser
checks (WebCrypto Ed25519 + SHA-256) pass; the same link at the other node (互认) → authentic;
a tampered seal and a tampered identifier → a plain failure; the progress look-up lists the items;
a wrong query code and empty fields → clear messages next to the fields. Saves a full-page
screenshot of every page per width into DIR. Exit status 1 with a list of failures otherwise.
"""
import http.client
import json
import os
import secrets
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WIDTHS = [("desktop", 1280, 900), ("phone", 390, 844)]
failures = []
lines = []


def check(condition, what):
    line = ("ok   " if condition else "FAIL ") + what
    print(line, flush=True)
    lines.append(line)
    if not condition:
        failures.append(what)


def browser():
    options = Options()
    for binary in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(binary):
            options.binary_location = binary
            break
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=zh-CN"):
        options.add_argument(argument)
    driver_path = next((p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.path.exists(p)), None)
    service = Service(executable_path=driver_path) if driver_path else Service()
    return webdriver.Chrome(service=service, options=options)


def shoot(driver, directory, name, width, height):
    """A full-page screenshot: the window grows to the page's height first."""
    full = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, max(height, min(int(full) + 140, 6000)))
    path = os.path.join(directory, name + ".png")
    driver.save_screenshot(path)
    driver.set_window_size(width, height)
    return path


def wait_for_browser_checks(driver):
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-browser-checks"))
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-browser-checks")


def tampered(url, name, change):
    parts = urlsplit(url)
    query = [(k, change(v) if k == name else v) for k, v in parse_qsl(parts.query)]
    return parts._replace(query=urlencode(query)).geturl()


def flip(text):
    middle = len(text) // 2
    return text[:middle] + ("B" if text[middle] != "B" else "C") + text[middle + 1:]


def fill(driver, values):
    for name, value in values.items():
        field = driver.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)


def click_to_load(driver, by, value, timeout=60):
    """Clicks a form's button and waits until the browser has left the page it was on: a wait for an
    element that the old page also has (a field error after a second bad post) would otherwise read
    the old page while the new one replaces it (StaleElementReferenceException, seen in CI)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, value).click()

    def left(_):
        # Chromium answers a node of a page being replaced with "stale element" or, mid-navigation,
        # an inspector error ("Node ... does not belong to the document"): either means it is gone.
        try:
            page.is_enabled()
            return False
        except WebDriverException:
            return True
    try:
        WebDriverWait(driver, timeout).until(left)
    except TimeoutException:
        pass  # nothing was loaded (a form the page itself refused): the caller's own checks say so


def submit(driver, action):
    click_to_load(driver, By.CSS_SELECTOR, f"form[action='{action}'] button[type=submit]")


def accounts(driver, config, directory):
    """Applicant accounts (#18 item 3): register, my applications (intake's ListApplications with the
    front's applicant token), sign out and in, the throttle's message, and the bad inputs: a forged
    session cookie, a form without its CSRF token, an ID registered twice, field errors."""
    web = config["county_web"]
    account = config["account"]
    password = "兰山办事 correct horse"
    # Not signed in: "my applications" sends to the sign-in page.
    driver.delete_all_cookies()
    driver.get(web + "/account")
    check(driver.current_url.endswith("/account/signin"), "without a session /account leads to the sign-in page")

    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        driver.get(web + "/account/register")
        submit(driver, "/account/register")
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "identity_code-error"))
        check("请填写姓名" in driver.find_element(By.ID, "name-error").text, f"[{label}] an empty name is named next to its field")
        check("请填写公民身份号码" in driver.find_element(By.ID, "identity_code-error").text, f"[{label}] an empty ID number is named next to its field")
        check("请填写手机号码" in driver.find_element(By.ID, "phone-error").text, f"[{label}] an empty phone is named next to its field")
        check("请设置密码" in driver.find_element(By.ID, "password-error").text, f"[{label}] an empty password is named next to its field")
        shoot(driver, directory, f"{label}-register-empty", width, height)
        # A mistyped ID number (check character) is caught before anything is stored.
        wrong = account["id_number"][:17] + ("0" if account["id_number"][17] != "0" else "1")
        fill(driver, {"name": account["name"], "identity_code": wrong, "phone": account["phone"], "password": password, "password_confirm": password})
        submit(driver, "/account/register")
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "identity_code-error"))
        check("校验位不符" in driver.find_element(By.ID, "identity_code-error").text, f"[{label}] a wrong check character is named next to the ID field")
        check(driver.find_element(By.ID, "password").get_attribute("value") == "", f"[{label}] the password is not sent back")
        shoot(driver, directory, f"{label}-register-bad-id", width, height)
    driver.set_window_size(*WIDTHS[0][1:])

    # A form posted without its CSRF token (another site's form, a script): refused, nothing stored.
    other = resident_id("37130219850505201")
    body = urlencode({"kind": "person", "name": "李四", "identity_code": other, "phone": "13900001111", "password": password, "password_confirm": password})
    status, text = post(web, "/account/register", body, cookie="oneseal_visitor=" + secrets.token_urlsafe(32))
    check(status == 403 and "表单已失效" in text, f"a registration without the CSRF token is refused with a clear page ({status})")

    # Register for real: straight into "my applications", which lists the window application.
    driver.get(web + "/account/register")
    fill(driver, {"name": account["name"], "identity_code": account["id_number"].lower(), "phone": account["phone"], "password": password, "password_confirm": password})
    submit(driver, "/account/register")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/account"))
    check(account["name"] in driver.find_element(By.ID, "account-name").text, "after registering, the account page names the person")
    rows = driver.find_elements(By.CSS_SELECTOR, f"#my-applications tr[data-application='{account['application_number']}']")
    check(len(rows) == 1, "my applications lists the application made at the window under this ID number")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#my-applications tbody tr")) == account["application_count"], "my applications lists only this person's applications")
    session = driver.get_cookie("oneseal_session")
    check(session is not None and session.get("httpOnly") and session.get("sameSite") == "Lax", f"the session cookie is HttpOnly and SameSite=Lax: {session and {k: session.get(k) for k in ('httpOnly', 'sameSite', 'secure')}}")
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-my-applications", width, height)
    driver.set_window_size(*WIDTHS[0][1:])

    # Signing out ends the session on the server: the old cookie no longer opens the page.
    old = session["value"] if session else ""
    submit(driver, "/account/signout")
    WebDriverWait(driver, 15).until(lambda d: urlsplit(d.current_url).path == "/")
    status, _ = get(web, "/account", cookie="oneseal_session=" + old)
    check(status == 303, f"the signed-out session's cookie no longer opens my applications ({status})")

    # The same ID again: the page says it is registered.
    driver.get(web + "/account/register")
    fill(driver, {"name": account["name"], "identity_code": account["id_number"], "phone": account["phone"], "password": password, "password_confirm": password})
    submit(driver, "/account/register")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "identity_code-error"))
    check("已注册" in driver.find_element(By.ID, "identity_code-error").text, "registering an ID number twice says it is registered")

    # A wrong password, then the right one.
    driver.get(web + "/account/signin")
    fill(driver, {"identity_code": account["id_number"], "password": "not the password"})
    submit(driver, "/account/signin")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "form-error"))
    check("号码或密码不正确" in driver.find_element(By.ID, "form-error").text, "a wrong password gives a plain message")
    shoot(driver, directory, "desktop-signin-wrong-password", *WIDTHS[0][1:])
    fill(driver, {"identity_code": account["id_number"], "password": password})
    submit(driver, "/account/signin")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/account"))
    check(bool(driver.find_elements(By.CSS_SELECTOR, f"#my-applications tr[data-application='{account['application_number']}']")), "signed in again, my applications is back")
    fresh = driver.get_cookie("oneseal_session")
    check(fresh is not None and fresh["value"] != old, "signing in issues a new session id")

    # A forged session cookie (right shape, unknown id) is no session.
    driver.delete_all_cookies()
    driver.get(web + "/")
    driver.add_cookie({"name": "oneseal_session", "value": secrets.token_urlsafe(32)[:43], "path": "/"})
    driver.get(web + "/account")
    check(driver.current_url.endswith("/account/signin"), "a forged session cookie leads to the sign-in page")

    # Too many wrong passwords on one account: the throttle says so, and the right password waits too.
    for _ in range(5):
        driver.get(web + "/account/signin")
        fill(driver, {"identity_code": account["id_number"], "password": "guess " + secrets.token_hex(4)})
        submit(driver, "/account/signin")
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "form-error"))
    driver.get(web + "/account/signin")
    fill(driver, {"identity_code": account["id_number"], "password": password})
    submit(driver, "/account/signin")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "form-error"))
    check("暂停登录" in driver.find_element(By.ID, "form-error").text, "after five wrong passwords the account is paused, even for the right one")
    shoot(driver, directory, "desktop-signin-throttled", *WIDTHS[0][1:])


def resident_id(first17):
    """A GB 11643 number with its check character (ISO 7064 MOD 11-2): valid, and no real person's."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def request(web, method, path, body=None, cookie=None):
    parts = urlsplit(web)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    connection.request(method, path, body=body.encode() if body is not None else None, headers=headers)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, text


def post(web, path, body, cookie=None):
    return request(web, "POST", path, body, cookie)


def get(web, path, cookie=None):
    return request(web, "GET", path, None, cookie)


def main():
    config = json.load(open(sys.argv[1], encoding="utf-8"))
    directory = config["screenshots"]
    os.makedirs(directory, exist_ok=True)
    qr_url = config["qr_url"]
    check(qr_url.startswith(config["county_web"] + "/verify?"), "the QR URL points at the county's web front: " + qr_url)
    driver = browser()
    try:
        # Every licence of the log verifies in the browser; between them the audit paths are not trivial.
        longest = 0
        for url in [qr_url] + config.get("more_qr_urls", []):
            driver.get(url)
            result = wait_for_browser_checks(driver)
            inclusion = driver.find_element(By.ID, "check-inclusion").text
            check(result == "pass", f"in-browser checks pass for {url.split('&id=')[1][:80]}…: {inclusion}")
            steps = [int(word) for word in inclusion.replace("审计路径", " ").replace("步", " ").split() if word.isdigit()]
            longest = max([longest] + steps[-1:])
        check(longest >= 2, f"an audit path of at least 2 hashes was checked in the browser (longest {longest})")

        # The browser does not take the server's word: the same page with evidence a lying server
        # would send (a byte changed) fails the check it concerns.
        lies = [
            ("rootHash", "ev.rootHash = flip(ev.rootHash);", ["check-treehead", "check-inclusion"]),
            ("treeHeadSignature", "ev.treeHeadSignature = flip(ev.treeHeadSignature);", ["check-treehead"]),
            ("auditPath", "ev.auditPath[0] = flip(ev.auditPath[0]);", ["check-inclusion"]),
            ("entryBytes", "ev.entryBytes = flip(ev.entryBytes);", ["check-inclusion"]),
            ("sealedContent", "ev.sealedContent = flip(ev.sealedContent);", ["check-seal"]),
            ("shown holder", "document.querySelector('[data-sealed-field=\"8\"]').textContent = '临沂市兰山区坏味道餐饮有限公司';", ["check-seal"]),
        ]
        for name, mutation, failing in lies:
            driver.get(qr_url)
            wait_for_browser_checks(driver)
            driver.execute_script("""
                const flip = (b64) => { const b = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)); b[b.length - 1] ^= 1; return btoa(String.fromCharCode(...b)); };
                const block = document.getElementById("evidence");
                const ev = JSON.parse(block.textContent);
                """ + mutation + """
                block.textContent = JSON.stringify(ev);
                document.body.removeAttribute("data-browser-checks");
                for (const id of ["check-treehead", "check-inclusion", "check-entry", "check-seal"]) document.getElementById(id).dataset.result = "pending";
                const again = document.createElement("script");
                again.src = document.querySelector("script[src]").src + "?again=" + Date.now();
                document.body.appendChild(again);
            """)
            result = wait_for_browser_checks(driver)
            states = {i: driver.find_element(By.ID, i).get_attribute("data-result") for i in failing}
            check(result == "fail" and all(v == "fail" for v in states.values()), f"a lie in {name} is caught by the browser ({result}, {states})")
            if name == "sealedContent":
                shoot(driver, directory, "desktop-verify-browser-catches-altered-content", 1280, 900)
        for label, width, height in WIDTHS:
            driver.set_window_size(width, height)
            driver.get(config["county_web"] + "/")
            check("办件进度查询" in driver.page_source and "证照核验" in driver.page_source, f"[{label}] home page has both forms")
            shoot(driver, directory, f"{label}-home", width, height)

            # The catalogue (办事指南), by keyboard from the home page: search, open the item's guide.
            driver.find_element(By.ID, "q").send_keys("食品", Keys.ENTER)
            WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "items-found") or d.find_elements(By.ID, "items-none") or d.find_elements(By.ID, "items-error"))
            found = driver.find_elements(By.CSS_SELECTOR, "#items-found tbody a")
            check(any("食品" in a.text for a in found), f"[{label}] a search for 食品 lists the food items: {[a.text for a in found]}")
            shoot(driver, directory, f"{label}-items-search", width, height)
            if found:
                link = next(a for a in found if "食品" in a.text)
                code = link.get_attribute("href").rsplit("/", 1)[-1]
                link.click()
                WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "item-code"))
                check(driver.find_element(By.ID, "item-code").text == code, f"[{label}] the guide is the item's ({code})")
                check(len(driver.find_element(By.ID, "item-basis").text) > 10, f"[{label}] the guide gives the legal basis")
                rows = driver.find_elements(By.CSS_SELECTOR, "#item-materials tbody tr")
                check(len(rows) >= 1 and any("必需" in r.text for r in rows), f"[{label}] the guide lists the materials ({len(rows)})")
                check("工作日" in driver.find_element(By.ID, "item-promised").text, f"[{label}] the guide gives the promised time limit")
                shoot(driver, directory, f"{label}-item-guide", width, height)
            driver.get(config["county_web"] + "/items/NO0SUCH0ITEM")
            check("事项不存在" in driver.page_source, f"[{label}] an unknown item code gives a clear page")

            # The QR code's target: authentic, in force, and the browser's own checks pass.
            driver.get(qr_url)
            result = wait_for_browser_checks(driver)
            verdict = driver.find_element(By.ID, "verdict").get_attribute("data-verdict")
            check(verdict == "valid", f"[{label}] QR link → verdict valid (got {verdict})")
            check(result == "pass", f"[{label}] in-browser checks pass (got {result})")
            for check_id in ("check-treehead", "check-inclusion", "check-entry", "check-seal"):
                state = driver.find_element(By.ID, check_id).get_attribute("data-result")
                check(state == "pass", f"[{label}] {check_id} ran in the browser and passed (got {state}: {driver.find_element(By.ID, check_id).text})")
            check("你的浏览器" in driver.page_source and "服务器" in driver.page_source, f"[{label}] the page says which checks ran where")
            shoot(driver, directory, f"{label}-verify-valid", width, height)

            # 互认: the same link at the city's front; the city asks the county and checks with its key.
            city_url = config["city_web"] + "/verify?" + urlsplit(qr_url).query
            driver.get(city_url)
            result = wait_for_browser_checks(driver)
            verdict = driver.find_element(By.ID, "verdict").get_attribute("data-verdict")
            check(verdict == "valid" and result == "pass", f"[{label}] the county's licence verifies at the city (互认): {verdict}/{result}")
            check("互认" in driver.find_element(By.ID, "server-seal").text, f"[{label}] the city's page names 互认")
            shoot(driver, directory, f"{label}-verify-mutual-recognition", width, height)

            # A natural person's licence: masked on the page, the seal over the content checked by
            # the server only (its bytes hold the full ID number), said so on the page.
            if "person_qr_url" in config:
                driver.get(config["person_qr_url"])
                result = wait_for_browser_checks(driver)
                seal = driver.find_element(By.ID, "check-seal")
                check(result == "pass" and seal.get_attribute("data-result") == "skip", f"[{label}] a person's licence: browser checks pass, the content seal is left to the server ({result}, {seal.get_attribute('data-result')})")
                check("自然人" in seal.text, f"[{label}] the page says why the content seal did not run in the browser")
                source = driver.page_source
                check(config["person"]["name"] not in source and config["person"]["id_number"] not in source, f"[{label}] neither the person's full name nor ID number is anywhere in the page")
                check(config["person"]["name"][0] + "**" in source, f"[{label}] the holder is shown masked")
                shoot(driver, directory, f"{label}-verify-natural-person", width, height)

            # A genuine licence no longer in force (withdrawn by the regulator → cancelled): said
            # plainly, with the ground; the browser's checks still pass (the seal is genuine).
            if "cancelled_qr_url" in config:
                driver.get(config["cancelled_qr_url"])
                result = wait_for_browser_checks(driver)
                verdict = driver.find_element(By.ID, "verdict")
                check(verdict.get_attribute("data-verdict") == "已注销" and "证照真实，但已注销" in verdict.text, f"[{label}] a cancelled licence says genuine but cancelled: {verdict.text[:120]}")
                check("原因" in verdict.text, f"[{label}] the ground is given: {verdict.text[:200]}")
                check(result == "pass", f"[{label}] the cancelled licence's seal and log checks still pass in the browser ({result})")
                shoot(driver, directory, f"{label}-verify-cancelled", width, height)

            # A forged seal in the link.
            driver.get(tampered(qr_url, "sig", flip))
            verdict = driver.find_element(By.ID, "verdict").get_attribute("data-verdict")
            check(verdict == "invalid" and "验证未通过" in driver.page_source, f"[{label}] a tampered seal fails plainly (got {verdict})")
            shoot(driver, directory, f"{label}-verify-tampered-seal", width, height)

            # A hand-edited identifier (its check character no longer fits, or no such licence).
            driver.get(tampered(qr_url, "id", lambda v: v[:-3] + ("9" if v[-3] != "9" else "8") + v[-2:]))
            verdict = driver.find_element(By.ID, "verdict").get_attribute("data-verdict")
            check(verdict == "invalid" and "验证未通过" in driver.page_source, f"[{label}] a tampered identifier fails plainly (got {verdict})")
            shoot(driver, directory, f"{label}-verify-tampered-identifier", width, height)

            # Progress look-up, by keyboard: type, Enter.
            driver.get(config["county_web"] + "/")
            driver.find_element(By.ID, "application_number").send_keys(config["progress"]["number"])
            code = driver.find_element(By.ID, "query_code")
            code.send_keys(config["progress"]["code"].lower())
            code.send_keys(Keys.ENTER)
            WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "progress-result") or d.find_elements(By.ID, "progress-error"))
            items = driver.find_elements(By.CSS_SELECTOR, "tr.item")
            check(len(items) >= 1, f"[{label}] the progress look-up lists the items ({len(items)})")
            check(any("准予许可" in item.text or "已领取" in item.text for item in items), f"[{label}] the item shows its decision: {[i.text for i in items]}")
            shoot(driver, directory, f"{label}-progress", width, height)

            # A wrong query code: one clear sentence, the number kept, the code not echoed.
            driver.get(config["county_web"] + "/progress")
            driver.find_element(By.ID, "application_number").send_keys(config["progress"]["number"])
            driver.find_element(By.ID, "query_code").send_keys("ZZZZZZZZZZ")
            click_to_load(driver, By.CSS_SELECTOR, "form button")
            WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "progress-error") or d.find_elements(By.ID, "progress-result"))
            errors = driver.find_elements(By.ID, "progress-error")
            check(bool(errors) and "受理编号或查询码不正确" in errors[0].text, f"[{label}] a wrong query code gives a clear page")
            check(driver.find_element(By.ID, "query_code").get_attribute("value") == "", f"[{label}] the wrong code is not echoed back")
            shoot(driver, directory, f"{label}-progress-wrong-code", width, height)

            # Empty fields: each error next to its field, in Chinese.
            driver.get(config["county_web"] + "/progress")
            click_to_load(driver, By.CSS_SELECTOR, "form button")
            WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "application_number-error"))
            check("请填写受理编号" in driver.find_element(By.ID, "application_number-error").text, f"[{label}] the empty number is named next to its field")
            check("请填写查询码" in driver.find_element(By.ID, "query_code-error").text, f"[{label}] the empty code is named next to its field")
            shoot(driver, directory, f"{label}-progress-empty", width, height)
        if "account" in config:
            accounts(driver, config, directory)
    finally:
        driver.quit()
    print("screenshots: " + directory, flush=True)
    # The report beside the screenshots: the artefacts of a CI run are one directory.
    with open(os.path.join(directory, "report.txt"), "w", encoding="utf-8") as report:
        report.write("\n".join(lines + [f"{len(failures)} failed, {len(lines) - len(failures)} passed"]) + "\n")
    if failures:
        print(f"{len(failures)} browser check(s) failed", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
