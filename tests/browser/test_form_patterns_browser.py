"""One look in a real browser, at 1280 px and on a 390 px phone: the error summary, 必須 marks, the postcode that
fills 都道府県・市区町村・町域, the menu button (mouse and keyboard) and lists as stacked cards with their labels."""
from __future__ import annotations

from app.extensions import db
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from tests.browser.conftest import password_step, screenshot
from tests.browser.test_jucho_browser import _code, smtp_sink  # noqa: F401 - the fixture
from tests.browser.test_mama_browser import _password_step
from tests.mama_helpers import in_tenant, issue_code

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDER_THAN_THE_SCREEN = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _mama_admin(app, live_server, new_context, viewport):
    page = new_context(viewport=viewport).new_page()
    code = issue_code(app, "mama1", "admin")
    _password_step(page, live_server, "admin")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{live_server}/")
    return page


def _jucho_admin(live_server, new_context, smtp_sink, viewport):  # noqa: F811 - the fixture
    page = new_context(viewport=viewport).new_page()
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    page.fill("#code", _code(smtp_sink, 1))
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    return page


def _cell_width(page, selector: str) -> float:
    return page.evaluate(f"() => document.querySelector({selector!r}).getBoundingClientRect().width")


def test_mama_form_summary_required_marks_and_postcode_fill_at_1280(app, live_server, new_context, make_tenant):
    make_tenant("mama1", product="mama")
    page = _mama_admin(app, live_server, new_context, DESKTOP)
    assert not page.is_visible("[data-testid=menu-toggle]")  # a wide screen shows the menu itself
    assert page.is_visible("nav.site-nav")
    page.goto(f"{live_server}/mama/associations/new")
    assert page.locator("label:has(.required-mark)").count() >= 7
    assert page.get_attribute("#code", "aria-required") == "true"
    assert page.get_attribute("#building_name", "aria-required") is None

    page.fill("#name", "グランドメゾン西新宿管理組合")
    page.click("button.primary")
    summary = page.locator("[data-testid=error-summary]")
    assert summary.is_visible()
    assert "入力内容に誤りがあります（" in summary.inner_text() and "組合コード: 入力してください。" in summary.inner_text()
    screenshot(page, "ui-mama-error-summary-1280")
    summary.locator("a[href='#code']").click()
    assert page.evaluate("() => location.hash") == "#code"
    assert page.input_value("#name") == "グランドメゾン西新宿管理組合"  # what was typed stays

    page.fill("#postal_code", "１６０００２３")  # full width, as a Japanese IME types it
    page.wait_for_function("() => document.querySelector('#city').value === '新宿区'")
    assert page.input_value("#prefecture") == "東京都" and page.input_value("#address_line") == "西新宿"
    assert "東京都 新宿区 西新宿 を入力しました" in page.inner_text("[data-testid=postcode-status]")
    page.fill("#address_line", "西新宿2-8-1")  # the filled fields stay editable
    page.fill("#postal_code", "0000000")
    page.wait_for_function("() => document.querySelector('[data-testid=postcode-status]').textContent.includes('見つかりません')")
    assert page.input_value("#address_line") == "西新宿2-8-1"  # an unknown code changes nothing
    screenshot(page, "ui-mama-postcode-1280")


def test_jucho_phone_menu_button_and_stacked_cards_at_390(app, live_server, new_context, make_tenant,
                                                          smtp_sink):  # noqa: F811 - the fixture
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    with in_tenant(app, "juchoco"):
        association = JuchoAssociation(name="新宿管理組合", kana="シンジュクカンリクミアイ", management_form="full")
        db.session.add(association)
        db.session.flush()
        db.session.add(JuchoBuilding(association_id=association.id, name="新宿タワー", kana="シンジュクタワー",
                                     postal_code="160-0023", address="東京都新宿区西新宿1-2-3", structure="RC",
                                     floors_above=10, total_units=50, management_fee_basis="unit",
                                     management_fee=10000, repair_reserve_basis="unit", repair_reserve=8000))
        db.session.commit()
    page = _jucho_admin(live_server, new_context, smtp_sink, PHONE)
    button = page.locator("[data-testid=menu-toggle]")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not page.is_visible("nav.site-nav") and not page.is_visible("[data-testid=logout]")
    screenshot(page, "ui-jucho-phone-menu-closed-390")
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert page.is_visible("nav.site-nav >> text=物件一覧") and page.is_visible("[data-testid=logout]")
    screenshot(page, "ui-jucho-phone-menu-open-390")
    page.keyboard.press("Escape")  # Escape closes it and gives the focus back to the button
    assert button.get_attribute("aria-expanded") == "false" and not page.is_visible("nav.site-nav")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "menu-toggle"
    page.keyboard.press("Enter")  # the keyboard opens it too
    assert button.get_attribute("aria-expanded") == "true"
    page.click("nav.site-nav >> text=物件一覧")
    page.wait_for_url("**/jucho/buildings")

    # The list is a stack of cards: every cell as wide as the card, with its column's label above the value.
    width = _cell_width(page, "[data-testid=building-table] tbody td[data-label='所在地']")
    assert width > 300, f"a 390px phone squeezes the address cell to {width}px"
    label = page.evaluate("() => getComputedStyle(document.querySelector("
                          "\"[data-testid=building-table] td[data-label='所在地']\"), '::before').content")
    assert label == '"所在地"'
    assert _cell_width(page, "[data-testid=building-table] thead") <= 1  # the header row is for screen readers only
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, page.evaluate(WIDER_THAN_THE_SCREEN)
    screenshot(page, "ui-jucho-phone-cards-390")

    # The building form at 390: 必須 marks and the postcode fill work on a phone as well.
    page.click("[data-testid=building-table] >> text=新宿タワー")
    page.click("[data-testid=edit]")
    assert page.locator("label[for=postal_code] .required-mark").is_visible()
    page.fill("#postal_code", "2310023")
    page.wait_for_function("() => document.querySelector('#city').value === '横浜市中区'")
    assert page.input_value("#prefecture") == "神奈川県"
    assert page.input_value("#address_line") == "西新宿1-2-3"  # a typed 町域・番地 is never overwritten
    screenshot(page, "ui-jucho-phone-postcode-390")


def test_mama_list_as_cards_at_390_and_a_table_at_1280(app, live_server, new_context, make_tenant):
    import random

    from plugins.mama.cli import sample_association

    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1"):
        db.session.add(sample_association(1, random.Random(1)))
        db.session.commit()
    wide = _mama_admin(app, live_server, new_context, DESKTOP)
    wide.goto(f"{live_server}/mama/associations")
    assert _cell_width(wide, "[data-testid=association-table] thead") > 1000
    screenshot(wide, "ui-mama-list-1280")
    phone = _mama_admin(app, live_server, new_context, PHONE)
    phone.goto(f"{live_server}/mama/associations")
    assert _cell_width(phone, "[data-testid=association-table] thead") <= 1
    width = _cell_width(phone, "[data-testid=association-table] tbody td[data-label='管理組合名']")
    assert width > 300, f"the name cell is {width}px wide on a 390px phone"
    screenshot(phone, "ui-mama-list-cards-390")
