"""修繕記録's second factor."""
from app.auth.factors import SecondFactor

FACTOR = SecondFactor("repairs-pin", "暗証番号", "repairs.pin")
