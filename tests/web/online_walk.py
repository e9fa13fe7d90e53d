#!/usr/bin/env python3
"""The online hall walk (#18 items 3-6) in a real browser, in phases between which the Swift test
acts as the window and the officer over RPC:

    python3 tests/web/online_walk.py apply   CONFIG.json   (writes CONFIG.json's "out" file)
    python3 tests/web/online_walk.py correct CONFIG.json
    python3 tests/web/online_walk.py results CONFIG.json
    python3 tests/web/online_walk.py rectified CONFIG.json

CONFIG (written by Tests/EndToEndTests/WebFrontTests.swift): {"screenshots": DIR, "web": URL,
"item": CODE, "person": {"name", "id_number", "phone", "password"}, "out": FILE, and for later
phases "application_id", "other_application_id", "other_licence", "qr_url"}.

apply: register; the item's guide → 网上申报; a PNG named .pdf and a 21 MiB file are refused next
to their fields and nothing is stored; the good files are submitted (channel ONLINE); the same
form posted twice more with its idempotency key makes one application, not two.
correct: the correction notice is on the application page; a file for a material it does not list
is refused; the two listed ones are uploaded and the application goes back to the window.
results: the e-licence downloads as a PDF; mail delivery is chosen (an empty address named next to
its fields) and shown masked; a bad rating needs a reason, then shows its rectification;
the QR link verifies with the in-browser checks passing;
a tampered link fails; another person's application and licence are plain not-found pages.
rectified: the hall called back and rectified; the applicant sees the measures and closes it; the
window posted the result as chosen and the application page shows the delivery record; with no
session, the rating link of another receipt refuses a wrong code and takes a rating with the right one.
Screenshots at desktop and phone widths; exit 1 with the failures otherwise.
"""
import json
import os
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_test import WIDTHS, browser, check, click_to_load, fill, flip, failures, get, lines, shoot, submit, tampered, wait_for_browser_checks  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
import http.client  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 64
JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0]) + b"\x00\x10JFIF\x00" + b"\x00" * 64


SCRATCH = tempfile.mkdtemp(prefix="oneseal-walk-uploads-")


def write(directory, name, content):
    """Files to upload go to a scratch folder, not among the artefacts (one is 21 MiB)."""
    path = os.path.join(SCRATCH if directory is None else directory, name)
    with open(path, "wb") as handle:
        handle.write(content)
    return path


def sign_in(driver, web, person):
    driver.get(web + "/account/signin")
    fill(driver, {"identity_code": person["id_number"], "password": person["password"]})
    submit(driver, "/account/signin")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/account"))


def cookie_header(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def multipart(fields, files):
    boundary = "----onesealwalk" + uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (file_name, content) in files.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode() + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, "multipart/form-data; boundary=" + boundary


def post_multipart(web, path, cookie, fields, files):
    body, content_type = multipart(fields, files)
    parts = urlsplit(web)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("POST", path, body=body, headers={"Content-Type": content_type, "Cookie": cookie})
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    location = response.getheader("Location")
    connection.close()
    return response.status, location, text


def fetch(web, path, cookie):
    parts = urlsplit(web)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    body = response.read()
    headers = dict(response.getheaders())
    connection.close()
    return response.status, headers, body


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#my-applications tbody tr")


def apply(driver, config, directory):
    web, person, item = config["web"], config["person"], config["item"]
    driver.get(web + "/account/register")
    fill(driver, {"name": person["name"], "identity_code": person["id_number"], "phone": person["phone"],
                  "password": person["password"], "password_confirm": person["password"]})
    submit(driver, "/account/register")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/account"))
    check(len(rows(driver)) == 0, "a new account has no applications")

    driver.get(web + "/items/" + item)
    driver.find_element(By.ID, "apply-online").click()
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/apply/" + item))
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-apply-form", width, height)
    driver.set_window_size(*WIDTHS[0][1:])
    check("20MB" in driver.find_element(By.ID, "material_M01-hint").text, "the size limit is shown next to each file input")

    # A PNG named .pdf, and a file over 20 MiB: each named next to its field, nothing stored.
    driver.find_element(By.ID, "material_M01").send_keys(write(None, "scan.pdf", PNG))
    driver.find_element(By.ID, "material_M04").send_keys(write(None, "too-big.pdf", PDF + b"\x00" * (21 << 20)))
    click_to_load(driver, By.ID, "apply-submit")
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "material_M01-error"))
    check("PNG图片" in driver.find_element(By.ID, "material_M01-error").text, "a PNG named .pdf is refused next to its field: " + driver.find_element(By.ID, "material_M01-error").text)
    check("超过20MB" in driver.find_element(By.ID, "material_M04-error").text, "a file over 20 MiB is refused next to its field")
    shoot(driver, directory, "desktop-apply-bad-files", *WIDTHS[0][1:])
    driver.get(web + "/account")
    check(len(rows(driver)) == 0, "the refused submission stored no application")

    # The good files.
    driver.get(web + "/apply/" + item)
    driver.find_element(By.ID, "material_M01").send_keys(write(None, "申请书.pdf", PDF))
    driver.find_element(By.ID, "material_M04").send_keys(write(None, "layout.png", PNG))
    driver.find_element(By.ID, "material_M05").send_keys(write(None, "rules.jpg", JPEG))
    click_to_load(driver, By.ID, "apply-submit")
    WebDriverWait(driver, 30).until(lambda d: "/account" in d.current_url and d.find_elements(By.ID, "account-notice"))
    check("网上申报已提交" in driver.find_element(By.ID, "account-notice").text, "the submission is confirmed with its number")
    found = rows(driver)
    check(len(found) == 1 and "网上" in found[0].text, "my applications shows the online application")
    number = found[0].get_attribute("data-application") if found else ""
    short = driver.find_elements(By.ID, "submitted-rating-link")
    check(bool(short) and ("/rate?n=" + number) in short[0].get_attribute("href"),
          "the submission confirmation carries the short rating link (no sign-in needed)")
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-applied", width, height)
    driver.set_window_size(*WIDTHS[0][1:])

    # The same form posted twice (a double click, a reload): one application.
    driver.get(web + "/apply/" + item)
    fields = {"csrf_token": driver.find_element(By.NAME, "csrf_token").get_attribute("value"),
              "idempotency_key": driver.find_element(By.NAME, "idempotency_key").get_attribute("value")}
    files = {"material_M01": ("申请书.pdf", PDF + b"% second\n")}
    first = post_multipart(web, "/apply/" + item, cookie_header(driver), fields, files)
    second = post_multipart(web, "/apply/" + item, cookie_header(driver), fields, files)
    check(first[0] == 303 and second[0] == 303 and first[1] == second[1], f"the same form twice answers with the same application ({first[:2]}, {second[:2]})")
    no_token = post_multipart(web, "/apply/" + item, cookie_header(driver), {"idempotency_key": fields["idempotency_key"]}, files)
    check(no_token[0] == 403, f"a submission without its CSRF token is refused ({no_token[0]})")
    driver.get(web + "/account")
    check(len(rows(driver)) == 2, f"two submissions of one form and a forged one made one more application ({len(rows(driver))} in all)")
    return {"application_number": number}


def correct(driver, config, directory):
    web = config["web"]
    sign_in(driver, web, config["person"])
    driver.get(web + "/account/applications/" + config["application_id"])
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "correction"))
    check("营业执照" in driver.find_element(By.ID, "correction-problems").text, "the correction notice lists the business licence")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#correction input[type=file]")) == 2, "only the two listed materials can be uploaded")
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-correction", width, height)
    driver.set_window_size(*WIDTHS[0][1:])
    form = {"csrf_token": driver.find_element(By.NAME, "csrf_token").get_attribute("value"),
            "idempotency_key": driver.find_element(By.NAME, "idempotency_key").get_attribute("value")}
    status, _, text = post_multipart(web, f"/account/applications/{config['application_id']}/correction", cookie_header(driver), form,
                                     {"material_M02": ("a.pdf", PDF), "material_M01": ("b.pdf", PDF)})
    check(status == 400 and "只能上传补正告知书列出的材料" in text, f"a file for a material the notice does not list is refused ({status})")
    driver.find_element(By.ID, "material_M02").send_keys(write(None, "营业执照.pdf", PDF + b"% business licence\n"))
    driver.find_element(By.ID, "material_M03").send_keys(write(None, "法定代表人身份证明.jpg", JPEG + b"id"))
    click_to_load(driver, By.ID, "correction-submit")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "application-notice"))
    check("补正材料已提交" in driver.find_element(By.ID, "application-notice").text, "the correction is confirmed")
    check("待受理" in driver.find_element(By.ID, "application-status").text or "已提交" in driver.find_element(By.ID, "application-status").text,
          "the application is back with the window: " + driver.find_element(By.ID, "application-status").text)
    check(not driver.find_elements(By.ID, "correction"), "the correction form is gone once answered")
    shoot(driver, directory, "desktop-corrected", *WIDTHS[0][1:])
    return {}


def results(driver, config, directory):
    web = config["web"]
    sign_in(driver, web, config["person"])
    driver.get(web + "/account/applications/" + config["application_id"])
    links = driver.find_elements(By.CSS_SELECTOR, "a.licence-download")
    check(len(links) == 1, "the application page offers the e-licence")
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-results", width, height)
    driver.set_window_size(*WIDTHS[0][1:])
    if links:
        status, headers, body = fetch(web, urlsplit(links[0].get_attribute("href")).path, cookie_header(driver))
        check(status == 200 and headers.get("Content-Type", "").startswith("application/pdf") and body.startswith(b"%PDF"),
              f"the holder downloads the e-licence as a PDF ({status}, {headers.get('Content-Type')}, {len(body)} bytes)")
        write(directory, "downloaded-licence.pdf", body)
    documents = driver.find_elements(By.CSS_SELECTOR, "a.document-download")
    if documents:
        status, headers, body = fetch(web, urlsplit(documents[0].get_attribute("href")).path, cookie_header(driver))
        check(status == 200 and len(body) > 0, f"a document of the hall downloads ({status}, {headers.get('Content-Type')})")
        check("/rate?n=" in body.decode("utf-8", "replace"), "the 受理通知书 prints the short rating link")
    # 送达方式: mail without an address is named next to the fields; with one it is kept and shown
    # masked; the window later honours it (the Swift side records the mail delivery).
    driver.find_element(By.ID, "delivery-mail").click()
    click_to_load(driver, By.ID, "delivery-submit")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "delivery-postal_address-error"))
    check("请填写邮寄地址" in driver.find_element(By.ID, "delivery-postal_address-error").text
          and driver.find_elements(By.ID, "delivery-recipient_name-error"), "mail without an address names the missing fields")
    driver.find_element(By.ID, "delivery-mail").click()
    fill(driver, {"delivery-recipient_name": "王小明", "delivery-phone": "13912345678",
                  "delivery-postal_address": "山东省临沂市兰山区金雀山路18号3单元", "delivery-postal_code": "276000"})
    click_to_load(driver, By.ID, "delivery-submit")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "delivery-choice-method"))
    check("送达方式已保存" in driver.find_element(By.ID, "application-notice").text, "the delivery choice is confirmed")
    check("邮寄" in driver.find_element(By.ID, "delivery-choice-method").text, "the chosen method is shown: mail")
    shown = driver.find_element(By.ID, "delivery-choice-address").text
    check("王*" in shown and "139****5678" in shown and "山东省临沂市****" in shown and "金雀山路" not in shown,
          "the chosen address is shown masked: " + shown)
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-delivery-chosen", width, height)
    driver.set_window_size(*WIDTHS[0][1:])
    # 好差评: a bad rating without a reason is named next to the reasons; with reasons it is taken
    # and its rectification (with its due date) is shown.
    driver.find_element(By.CSS_SELECTOR, "input[name=level][value='1']").click()
    click_to_load(driver, By.ID, "rating-submit")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "reason-error"))
    check("请选择原因" in driver.find_element(By.ID, "reason-error").text, "a bad rating without a reason is named next to the reasons")
    driver.find_element(By.CSS_SELECTOR, "input[name=level][value='1']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=reason][value='多次跑腿']").click()
    driver.find_element(By.ID, "comment").send_keys("营业执照能共享却还要我上传，来回两次")
    click_to_load(driver, By.ID, "rating-submit")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "rating-level"))
    check("非常不满意" in driver.find_element(By.ID, "rating-level").text, "the bad rating is recorded")
    status = driver.find_elements(By.ID, "rectification-status")
    check(bool(status) and "待核实回访" in status[0].text, "the bad rating's rectification is shown: " + (status[0].text if status else "none"))
    rating_link = driver.find_elements(By.ID, "rating-link")
    check(bool(rating_link), "the rating has a page of its own to follow the rectification")
    rating_path = urlsplit(rating_link[0].get_attribute("href")).path if rating_link else ""
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-rated", width, height)
    driver.set_window_size(*WIDTHS[0][1:])

    # Another person's application and licence: a plain not-found, nothing about them.
    driver.get(web + "/account/applications/" + config["other_application_id"])
    check("办件不存在" in driver.find_element(By.TAG_NAME, "h1").text, "another person's application id gives a plain not-found page")
    shoot(driver, directory, "desktop-other-application", *WIDTHS[0][1:])
    status, _, _ = fetch(web, "/account/licences/" + config["other_licence"], cookie_header(driver))
    check(status == 404, f"another person's licence does not download ({status})")
    # The licence's QR: authentic, the browser's own checks pass; a tampered link fails.
    driver.get(config["qr_url"])
    check(wait_for_browser_checks(driver) == "pass", "the online applicant's licence verifies with the in-browser checks passing")
    shoot(driver, directory, "desktop-licence-verified", *WIDTHS[0][1:])
    driver.get(tampered(config["qr_url"], "sig", flip))
    verdict = driver.find_element(By.ID, "verdict").get_attribute("data-verdict")
    check(verdict == "invalid" and "验证未通过" in driver.page_source, f"the tampered QR link fails plainly (got {verdict})")
    return {"rating_path": rating_path}


def rectified(driver, config, directory):
    """After the hall called back and rectified: the applicant sees the measures and gives a verdict."""
    web = config["web"]
    sign_in(driver, web, config["person"])
    driver.get(web + config["rating_path"])
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "rectification-status"))
    check("已整改" in driver.find_element(By.ID, "rectification-status").text, "the rectification is shown as done: " + driver.find_element(By.ID, "rectification-status").text)
    check("共享" in driver.find_element(By.ID, "rectification-measures").text, "the measures taken are shown")
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-rectified", width, height)
    driver.set_window_size(*WIDTHS[0][1:])
    driver.find_element(By.CSS_SELECTOR, "input[name=level][value='4']").click()
    click_to_load(driver, By.ID, "verdict-submit")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "rectification-verdict"))
    check("满意" in driver.find_element(By.ID, "rectification-verdict").text and "已办结" in driver.find_element(By.ID, "rectification-status").text,
          "the applicant's verdict closes the rectification")
    shoot(driver, directory, "desktop-rectification-closed", *WIDTHS[0][1:])
    # Another person cannot open it: a forged rating id is a plain not-found.
    driver.get(web + "/account/ratings/" + str(uuid.uuid4()))
    check("评价不存在" in driver.find_element(By.TAG_NAME, "h1").text, "someone else's (or no) rating id is a plain not-found")
    # The window posted the result as chosen: the delivery record on the application page.
    driver.get(web + "/account/applications/" + config["application_id"])
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "delivery-record"))
    check("邮寄" in driver.find_element(By.ID, "delivery-method").text, "the delivery record says mail")
    check(driver.find_element(By.ID, "delivery-tracking").text == config.get("tracking_number"), "the delivery record shows the tracking number")
    check("金雀山路" not in driver.find_element(By.ID, "delivery-address").text, "the delivery record shows the address masked")
    check(not driver.find_elements(By.ID, "delivery-submit"), "no choice is offered once delivered")
    shoot(driver, directory, "desktop-delivered", *WIDTHS[0][1:])
    # The rating link on another person's receipt, with no session at all (#18 item 7): a wrong
    # code is the progress look-up's plain refusal; the right one takes an anonymous rating.
    driver.delete_all_cookies()
    wrong = "A" * 10 if config["other_code"] != "A" * 10 else "B" * 10
    driver.get(web + f"/rate?n={config['other_number']}&c={wrong}")
    driver.find_element(By.CSS_SELECTOR, "input[name=level][value='5']").click()
    click_to_load(driver, By.ID, "rate-submit")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "rate-notice"))
    check("未查到该办件" in driver.find_element(By.ID, "rate-notice").text, "a wrong code on the rating link is the look-up's plain refusal")
    check(driver.find_element(By.ID, "query_code").get_attribute("value") == "", "the code is not shown back")
    driver.get(web + f"/rate?n={config['other_number']}&c={config['other_code']}")
    check(not driver.find_elements(By.CSS_SELECTOR, "form[action='/account/signout']"), "the rating link needs no sign-in")
    driver.find_element(By.CSS_SELECTOR, "input[name=level][value='5']").click()
    driver.find_element(By.ID, "comment").send_keys("窗口一次办好，没有跑第二趟")
    for label, width, height in WIDTHS:
        driver.set_window_size(width, height)
        shoot(driver, directory, f"{label}-rating-link", width, height)
    driver.set_window_size(*WIDTHS[0][1:])
    click_to_load(driver, By.ID, "rate-submit")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "rate-done") or d.find_elements(By.ID, "rate-notice"))
    done = driver.find_elements(By.ID, "rate-done")
    check(bool(done) and "非常满意" in driver.find_element(By.ID, "rating-level").text,
          "the rating link takes the rating without sign-in: " + (done[0].text if done else driver.find_element(By.ID, "rate-notice").text))
    shoot(driver, directory, "desktop-rated-by-link", *WIDTHS[0][1:])
    return {}


def main():
    phase, config = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
    directory = config["screenshots"]
    os.makedirs(directory, exist_ok=True)
    driver = browser()
    out = {}
    try:
        out = {"apply": apply, "correct": correct, "results": results, "rectified": rectified}[phase](driver, config, directory)
    except Exception as error:  # a missing element is a failure of the walk, reported as such
        check(False, f"{phase}: {type(error).__name__}: {error}")
    finally:
        driver.quit()
        for name in os.listdir(SCRATCH):
            os.remove(os.path.join(SCRATCH, name))
        os.rmdir(SCRATCH)
    if config.get("out"):
        with open(config["out"], "w", encoding="utf-8") as handle:
            json.dump(out, handle)
    with open(os.path.join(directory, f"report-{phase}.txt"), "w", encoding="utf-8") as report:
        report.write("\n".join(lines + [f"{len(failures)} failed, {len(lines) - len(failures)} passed"]) + "\n")
    if failures:
        print(f"{len(failures)} check(s) failed in phase {phase}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
