"""The MAMA second factor as the core sees it."""
from app.auth.factors import SecondFactor

FACTOR = SecondFactor("mama-device", "登録端末", "mama.device")
