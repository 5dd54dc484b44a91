"""営業日 for due dates: weekends, 祝日, 振替休日, 国民の休日 and the 年末年始 break (12/29–1/3) are skipped."""
from __future__ import annotations

from datetime import date

import pytest

from plugins.jucho.business_days import add_business_days, is_business_day
from tests.jucho_fixtures import *  # noqa: F403  (the shared 重調 fixtures)


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 4, 28), 3, date(2026, 5, 7)),     # Tue → 4/29 昭和の日, 5/3–5/5, 5/6 振替休日 skipped
    (date(2026, 12, 28), 1, date(2027, 1, 4)),    # 年末年始 12/29–1/3, then Mon 1/4
    (date(2026, 12, 25), 2, date(2027, 1, 4)),    # Fri: Mon 12/28, then 1/4
    (date(2026, 9, 18), 1, date(2026, 9, 24)),    # 敬老の日 9/21, 国民の休日 9/22, 秋分の日 9/23
    (date(2027, 1, 8), 1, date(2027, 1, 12)),     # 成人の日 2027-01-11
    (date(2026, 11, 20), 2, date(2026, 11, 25)),  # 勤労感謝の日 2026-11-23 (Mon)
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # an ordinary weekend
    (date(2026, 11, 23), 5, date(2026, 11, 30)),  # a holiday as the 受付日 is not counted anyway
])
def test_due_dates_skip_weekends_holidays_and_the_year_end_break(start, days, due):
    assert add_business_days(start, days) == due


def test_which_days_are_business_days():
    assert is_business_day(date(2026, 12, 28)) and is_business_day(date(2027, 1, 4))
    assert not any(is_business_day(date(2026, 12, day)) for day in (29, 30, 31))
    assert not is_business_day(date(2027, 1, 1)) and not is_business_day(date(2027, 1, 3))
    assert not is_business_day(date(2026, 5, 6))                              # 振替休日
    assert not is_business_day(date(2026, 11, 28))                            # Saturday
    assert is_business_day(date(2026, 5, 7)) and is_business_day(date(2030, 8, 9))


def test_a_request_received_before_golden_week_is_due_after_it(jucho, in_tenant):
    from plugins.jucho.requests import DEFAULT_DUE_BUSINESS_DAYS, default_due_date

    with in_tenant("juchoco"):
        assert DEFAULT_DUE_BUSINESS_DAYS == 3
        assert default_due_date(date(2026, 4, 28)) == date(2026, 5, 7)
        assert default_due_date(date(2026, 12, 28)) == date(2027, 1, 6)


def test_the_settings_screen_says_which_days_are_not_counted(admin):
    page = admin.get("/jucho/fees").get_data(as_text=True)
    assert "土日・祝日（振替休日を含む）・年末年始（12月29日〜1月3日）を除いて数えます。" in page
