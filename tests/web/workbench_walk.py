#!/usr/bin/env python3
"""The hall's workbench (#19) in real browsers, one per person (separate browser profiles, as two
PCs in the hall):

    python3 tests/web/workbench_walk.py CONFIG.json

CONFIG (written by Tests/EndToEndTests/WorkbenchTests.swift against a live two-node cluster, after
the window accepted a section-tier application over RPC):
  {"screenshots": DIR, "web": URL, "case_id": ID, "case_number": NUMBER,
   "window_application_id": ID, "window_application_number": NUMBER,
   "staff": {"officer": {"number", "password"}, "chief": {…}, "clerk": {…}, "inspector": {…},
             "director": {…}, "operator": {…}}}

Walk: each person signs in with the one-time password and sets their own; the officer finds the
case in the work list, opens the case page and a material, is told by the field what is missing,
then signs the review; once the clerk has accepted a food application, the officer reviews and
decides that sole-approval case on the spot; the section chief, in a second browser at the same time, signs off (a
different person from the reviewer), is told by the field when the decision lacks its scope, and
grants, the page showing the decision document's number; the clerk's browser is refused the case
page but accepts, at the window's own screen, a second application waiting there; the inspector finds the push in the department inbox and claims it, then ticks the pushes still pending and claims them at once; the director's board
counts the decided case and opens the month's report (the clerk is refused the board); the
operator's page shows every service serving and the catalogue; the section chief records the
科室会审 before signing and opens the returned pushes; the director binds a TOTP second factor
from the shown secret. A full-page screenshot
of every screen goes into DIR. Exit status 1 with a list of failures otherwise.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_test import browser, check, click_to_load, failures, fill, shoot, submit  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WIDTH, HEIGHT = 1280, 900
NEW_PASSWORD = "hall workbench 2026 ok"


def first_sign_in(driver, web, person, directory, name):
    driver.set_window_size(WIDTH, HEIGHT)
    driver.get(web + "/staff/sign-in")
    fill(driver, {"staff_number": person["number"], "password": person["password"]})
    if name == "officer":
        shoot(driver, directory, "01-staff-sign-in", WIDTH, HEIGHT)
    submit(driver, "/staff/sign-in")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/staff/password"))
    fill(driver, {"current_password": person["password"], "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
    if name == "officer":
        shoot(driver, directory, "02-staff-password-change", WIDTH, HEIGHT)
    submit(driver, "/staff/password")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/staff"))
    check(person["number"] in driver.page_source, f"{name} is signed in at the workbench")


def totp_code(grouped, at=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s) from the secret as the enrolment page shows it."""
    secret = grouped.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def choose(driver, form, name, value):
    driver.find_element(By.CSS_SELECTOR, f"#{form} input[name='{name}'][value='{value}']").click()


def main():
    config = json.load(open(sys.argv[1], encoding="utf-8"))
    directory = config["screenshots"]
    os.makedirs(directory, exist_ok=True)
    web = config["web"]
    case_path = "/staff/cases/" + config["case_id"]
    number = config["case_number"]
    staff = config["staff"]
    drivers = {}
    try:
        for name in ("officer", "chief", "clerk", "inspector", "director", "operator"):
            drivers[name] = browser()
            first_sign_in(drivers[name], web, staff[name], directory, name)
        officer, chief, clerk, inspector, director, operator = (drivers[n] for n in ("officer", "chief", "clerk", "inspector", "director", "operator"))

        # The officer: work list → case page → a material.
        shoot(officer, directory, "03-workbench-home", WIDTH, HEIGHT)
        officer.get(web + "/staff/cases")
        check(number in officer.page_source and "办结期限" in officer.page_source, "the work list shows the case with its due date")
        shoot(officer, directory, "04-work-list", WIDTH, HEIGHT)
        click_to_load(officer, By.LINK_TEXT, number)
        check(officer.current_url.endswith(case_path), "the case number opens the case page")
        check("申请材料" in officer.page_source and "审计记录" in officer.page_source, "the case page shows the materials and the audit entries")
        check(len(officer.find_elements(By.ID, "form-decision")) == 0, "the officer is not offered the decision form on a section-tier case")
        shoot(officer, directory, "05-case-page-officer", WIDTH, HEIGHT)
        material = officer.find_element(By.CSS_SELECTOR, f"a[href^='{case_path}/materials/']").get_attribute("href")
        officer.get(material)
        time.sleep(1)
        shoot(officer, directory, "06-material-inline", WIDTH, HEIGHT)
        officer.get(web + case_path)

        # Bad input: by the field, nothing signed.
        click_to_load(officer, By.CSS_SELECTOR, "#form-review button[type=submit]")
        check(len(officer.find_elements(By.ID, "opinion-error")) == 1 and len(officer.find_elements(By.ID, "conclusion-error")) == 1,
              "an empty review is refused with a message by each field")
        shoot(officer, directory, "07-review-refused-by-field", WIDTH, HEIGHT)
        choose(officer, "form-review", "conclusion", "grant")
        fill(officer, {"opinion": config["review_opinion"]})
        click_to_load(officer, By.CSS_SELECTOR, "#form-review button[type=submit]")
        check("审查意见已签署" in officer.page_source, "the review is signed: " + officer.current_url)
        shoot(officer, directory, "08-review-signed", WIDTH, HEIGHT)

        # The clerk, meanwhile: the case page is not theirs.
        clerk.get(web + case_path)
        check("无权访问" in clerk.page_source and number not in clerk.page_source, "the clerk's browser is refused the case page")
        shoot(clerk, directory, "09-clerk-refused", WIDTH, HEIGHT)

        # The clerk's own screen: the window's queue, an application, accepted after a refused note.
        waiting = config["window_application_number"]
        clerk.get(web + "/staff/window")
        check(waiting in clerk.page_source and "待受理" in clerk.page_source, "the window's queue lists the application waiting for a decision")
        shoot(clerk, directory, "09a-window-queue", WIDTH, HEIGHT)
        click_to_load(clerk, By.LINK_TEXT, waiting)
        check(len(clerk.find_elements(By.ID, "form-accept")) == 1 and len(clerk.find_elements(By.ID, "form-correction")) == 1,
              "the application page offers acceptance and the one-time correction notice")
        shoot(clerk, directory, "09b-window-application", WIDTH, HEIGHT)
        click_to_load(clerk, By.CSS_SELECTOR, "#form-correction button[type=submit]")
        check(len(clerk.find_elements(By.ID, "problems-error")) == 1, "a correction notice with nothing ticked is refused by the list")
        click_to_load(clerk, By.CSS_SELECTOR, "#form-accept button[type=submit]")
        done = clerk.find_elements(By.ID, "act-done")
        check(bool(done) and "受理通知书编号" in done[0].text, "accepted at the window, the receipt's number shown")
        shoot(clerk, directory, "09c-window-accepted", WIDTH, HEIGHT)

        # The officer, the food item just accepted (独任审批): the sole officer reviews and decides
        # on the spot — the decision form asks for the review opinion first (decision 72).
        sole_path = None
        deadline = time.time() + 60
        while time.time() < deadline and sole_path is None:
            officer.get(web + "/staff/cases")
            links = [a.get_attribute("href") for a in officer.find_elements(By.CSS_SELECTOR, "a[href*='/staff/cases/']")]
            others = [href for href in links if href and not href.endswith(case_path) and "/materials/" not in href]
            sole_path = others[0] if others else None
            if sole_path is None:
                time.sleep(1)
        check(sole_path is not None, "the accepted food application's case is in the officer's work list")
        if sole_path:
            officer.get(sole_path)
            check(len(officer.find_elements(By.ID, "form-review")) == 1 and len(officer.find_elements(By.ID, "form-decision")) == 1
                  and "独任审批：审查并当场作出决定" in officer.page_source,
                  "a sole case offers the review and the decision with the review opinion")
            choose(officer, "form-decision", "outcome", "grant")
            fill(officer, {"scope": "预包装食品销售，散装食品销售", "place": "兰山区解放路1号"})
            click_to_load(officer, By.CSS_SELECTOR, "#form-decision button[type=submit]")
            check(len(officer.find_elements(By.ID, "review_opinion-error")) == 1, "a decision on the spot without the review opinion is refused by the field")
            shoot(officer, directory, "09d-sole-decision-needs-opinion", WIDTH, HEIGHT)
            choose(officer, "form-decision", "outcome", "grant")
            fill(officer, {"review_opinion": config["review_opinion"], "scope": "预包装食品销售，散装食品销售", "place": "兰山区解放路1号"})
            click_to_load(officer, By.CSS_SELECTOR, "#form-decision button[type=submit]")
            done = officer.find_elements(By.ID, "act-done")
            check(bool(done) and "决定书" in done[0].text and "准予许可" in done[0].text,
                  "the sole officer reviewed and granted in one act: " + (done[0].text if done else "none"))
            shoot(officer, directory, "09e-sole-decided-on-the-spot", WIDTH, HEIGHT)

        # The section chief, in a second browser: the section's meeting (科室会审), sign-off, then the decision.
        chief.get(web + case_path)
        check(len(chief.find_elements(By.ID, "form-sign-off")) == 1, "the section chief is offered the sign-off")
        check(len(chief.find_elements(By.ID, "form-joint-review")) == 1, "the section chief is offered the 科室会审 record")
        shoot(chief, directory, "10-case-page-section-chief", WIDTH, HEIGHT)
        fill(chief, {
            "jr_location": "三楼第二会议室", "jr_conclusion": "经科室会审，申请材料齐全，现场核查符合条件，同意准予许可",
            "jr_subject_1": staff["chief"]["number"], "jr_title_1": "科室负责人", "jr_opinion_1": "现场核查记录完整，场所与平面图一致，同意",
            "jr_subject_2": staff["officer"]["number"], "jr_title_2": "承办人", "jr_opinion_2": "材料齐全，经核对原件与复印件一致，建议准予",
        })
        Select(chief.find_element(By.ID, "jr_vote_1")).select_by_value("agree")
        Select(chief.find_element(By.ID, "jr_vote_2")).select_by_value("agree")
        choose(chief, "form-joint-review", "jr_outcome", "grant")
        click_to_load(chief, By.CSS_SELECTOR, "#form-joint-review button[type=submit]")
        check("会审记录已保存" in chief.page_source and "会审记录" in chief.page_source, "the 科室会审 is recorded with both opinions")
        shoot(chief, directory, "10a-joint-review-recorded", WIDTH, HEIGHT)
        choose(chief, "form-sign-off", "conclusion", "grant")
        fill(chief, {"opinion": config["sign_off_opinion"]})
        click_to_load(chief, By.CSS_SELECTOR, "#form-sign-off button[type=submit]")
        check("办件待作出决定" in chief.page_source, "the sign-off is recorded and the case awaits the decision")
        choose(chief, "form-decision", "outcome", "grant")
        click_to_load(chief, By.CSS_SELECTOR, "#form-decision button[type=submit]")
        check(len(chief.find_elements(By.ID, "scope-error")) == 1, "a grant without its scope is refused by the field")
        shoot(chief, directory, "11-decision-refused-by-field", WIDTH, HEIGHT)
        choose(chief, "form-decision", "outcome", "grant")
        fill(chief, {"scope": "房屋建筑工程施工（兰山区解放路1号综合楼）", "place": "兰山区解放路1号"})
        click_to_load(chief, By.CSS_SELECTOR, "#form-decision button[type=submit]")
        done = chief.find_elements(By.ID, "act-done")
        check(bool(done) and "决定书" in done[0].text and "准予许可" in done[0].text, "the grant is decided and its document number shown: " + (done[0].text if done else "none"))
        shoot(chief, directory, "12-decided-with-notice-number", WIDTH, HEIGHT)

        # The inspector: the push arrives in the department inbox and is claimed.
        deadline = time.time() + 60
        while time.time() < deadline:
            inspector.get(web + "/staff/pushes")
            if number in inspector.page_source:
                break
            time.sleep(1)
        check(number in inspector.page_source and "认领期限" in inspector.page_source, "the push is in the department's inbox with its claim deadline")
        shoot(inspector, directory, "13-department-inbox", WIDTH, HEIGHT)
        click_to_load(inspector, By.LINK_TEXT, number)
        shoot(inspector, directory, "14-push-page", WIDTH, HEIGHT)
        fill(inspector, {"note": "纳入日常监管"})
        click_to_load(inspector, By.CSS_SELECTOR, "#form-claim button[type=submit]")
        check("已认领" in inspector.page_source and "认领人" in inspector.page_source and staff["inspector"]["number"] in inspector.page_source, "the inspector claimed the push")
        shoot(inspector, directory, "15-push-claimed", WIDTH, HEIGHT)

        # 认领所选: every push still pending ticked on the inbox and claimed at once (decision 71).
        deadline = time.time() + 60
        boxes = []
        while time.time() < deadline and not boxes:
            inspector.get(web + "/staff/pushes")
            boxes = inspector.find_elements(By.CSS_SELECTOR, "#form-claim-selected input[type=checkbox]")
            if not boxes:
                time.sleep(1)
        check(bool(boxes), "the inbox offers a box for each pending push")
        if boxes:
            for box in boxes:
                box.click()
            shoot(inspector, directory, "15a-inbox-ticked", WIDTH, HEIGHT)
            click_to_load(inspector, By.CSS_SELECTOR, "#form-claim-selected button[type=submit]")
            done = inspector.find_elements(By.ID, "act-done")
            check(bool(done) and f"已认领{len(boxes)}条" in done[0].text, "the ticked pushes are claimed at once: " + (done[0].text if done else "none"))
            shoot(inspector, directory, "15b-inbox-claimed-selected", WIDTH, HEIGHT)

        # The director's board: today's decided case, once evaluation has heard of it.
        check("/staff/dashboard" in director.page_source, "the director's workbench links the board")
        deadline = time.time() + 60
        while time.time() < deadline:
            director.get(web + "/staff/dashboard")
            if '<th scope="row">办结</th><td>2</td>' in director.page_source:
                break
            time.sleep(1)
        check('<th scope="row">办结</th><td>2</td>' in director.page_source, "the board counts the two cases decided today")
        check("<svg" in director.page_source and "预警" in director.page_source and "窗口红黄旗" in director.page_source,
              "the board shows warnings, window flags and the month's charts")
        shoot(director, directory, "16-director-dashboard", WIDTH, HEIGHT)
        click_to_load(director, By.PARTIAL_LINK_TEXT, "本月效能分析报告")
        check("效能分析报告" in director.page_source and "/staff/dashboard/report" in director.current_url, "the month's report opens from the board")
        shoot(director, directory, "17-monthly-report", WIDTH, HEIGHT)
        clerk.get(web + "/staff/dashboard")
        check("无权访问" in clerk.page_source, "the clerk's browser is refused the board")

        # The operator's page: every connected service serving, the catalogue, the staff.
        operator.get(web + "/staff/operations")
        check("服务状态：6/6 正常" in operator.page_source, "intake, certificate, approval, supervision, evaluation and the front's database serving")
        check("导出目录文件" in operator.page_source and staff["inspector"]["number"] in operator.page_source, "the catalogue and the staff accounts are listed")
        shoot(operator, directory, "18-operations", WIDTH, HEIGHT)

        # The bureau's list of pushes the departments sent back (empty here: the push was claimed).
        chief.get(web + "/staff/returned-pushes")
        check("退回的推送" in chief.page_source, "the section chief opens the returned pushes")
        shoot(chief, directory, "19-returned-pushes", WIDTH, HEIGHT)

        # The director binds a second factor from the workbench: the code from the shown secret.
        director.get(web + "/staff/second-factor")
        secret = director.find_element(By.ID, "totp-secret").text
        shoot(director, directory, "20-second-factor-enrolment", WIDTH, HEIGHT)
        fill(director, {"code": totp_code(secret)})
        click_to_load(director, By.CSS_SELECTOR, "form[action='/staff/second-factor'] button[type=submit]")
        check("动态验证码已启用" in director.page_source, "the director's second factor is bound")
    except Exception as error:  # a crash is a failure with its reason, and the screenshots so far stay
        check(False, f"walk stopped: {type(error).__name__}: {error}")
    finally:
        for driver in drivers.values():
            driver.quit()
    print(f"screenshots: {directory}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
