"""A stand-in for the Zibal payment gateway, for development and tests (never for real money).

It speaks the part of Zibal's protocol that ``azbankgateways``' Zibal gateway uses, over plain
HTTP/JSON on 127.0.0.1:

* ``POST /v1/request`` ``{merchant, amount, callbackUrl, orderId, mobile}`` →
  ``{result: 100, trackId, message}`` (102: unknown merchant; 105: amount under 1,000 rials);
* ``GET /start/<trackId>`` — the payer's page: the amount with **پرداخت** (pay) and **انصراف**
  (cancel); pressing one sends the browser to ``callbackUrl?trackId=…&success=1|0&status=2|3&orderId=…``;
* ``POST /v1/verify`` ``{merchant, trackId}`` → ``{result: 100, status: 1, amount, refNumber,
  cardNumber, paidAt, orderId, message}``; 202 when not paid, 201 when verified before, 203 for
  an unknown trackId, 102 for another merchant.

Run it with ``manage.py devbank`` (port 8010 by default) and start the portal with
``PAYMENT_BACKEND=ramis.requests.payments.AzBankGatewaysBackend BANK_GATEWAY=ZIBAL
BANK_MERCHANT_CODE=zibal BANK_BASE_URL=http://127.0.0.1:8010``. Two switches play a misbehaving
bank: ``verify_result`` (answer every verify with that result code) and ``amount_delta`` (report
that many rials more than was asked in the verify answer).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

MINIMUM_RIALS = 1000
MESSAGES = {
    100: "با موفقیت تایید شد.", 102: "merchant یافت نشد.", 105: "amount بایستی بزرگتر از 1,000 ریال باشد.",
    201: "قبلا تایید شده.", 202: "سفارش پرداخت نشده یا ناموفق بوده است.", 203: "trackId نامعتبر می‌باشد.",
}


@dataclass
class Order:
    track_id: int
    amount: int
    callback_url: str
    order_id: str
    state: str = "new"  # new → paid | cancelled; paid → verified
    ref_number: int = 0
    paid_at: str = ""
    verify_calls: int = 0


@dataclass
class DevBank:
    merchants: frozenset = frozenset({"zibal"})
    verify_result: int | None = None
    amount_delta: int = 0
    orders: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the three calls ----------------------------------------------------------------------------

    def request(self, data: dict) -> dict:
        if data.get("merchant") not in self.merchants:
            return self._answer(102)
        try:
            amount = int(data.get("amount"))
        except (TypeError, ValueError):
            amount = 0
        if amount < MINIMUM_RIALS:
            return self._answer(105)
        with self.lock:
            track_id = secrets.randbelow(9 * 10**9) + 10**9
            self.orders[track_id] = Order(track_id=track_id, amount=amount, callback_url=str(data["callbackUrl"]),
                                          order_id=str(data.get("orderId", "")))
        return {**self._answer(100), "trackId": track_id}

    def decide(self, track_id: int, *, pay: bool) -> str | None:
        """The payer pressed pay or cancel: the URL the browser is sent to (None: unknown order)."""
        with self.lock:
            order = self.orders.get(track_id)
            if order is None:
                return None
            if order.state == "new":
                order.state = "paid" if pay else "cancelled"
                if pay:
                    order.ref_number = secrets.randbelow(9 * 10**9) + 10**9
                    order.paid_at = datetime.now(UTC).isoformat(timespec="seconds")
            paid = order.state in {"paid", "verified"}
        return _with_query(order.callback_url, {
            "trackId": track_id, "success": 1 if paid else 0, "status": 2 if paid else 3, "orderId": order.order_id,
        })

    def verify(self, data: dict) -> dict:
        if data.get("merchant") not in self.merchants:
            return self._answer(102)
        with self.lock:
            order = self.orders.get(_int(data.get("trackId")))
            if order is None:
                return self._answer(203)
            order.verify_calls += 1
            if self.verify_result is not None:
                return self._answer(self.verify_result)
            if order.state not in {"paid", "verified"}:
                return {**self._answer(202), "status": 3 if order.state == "cancelled" else -1}
            code = 100 if order.state == "paid" else 201
            order.state = "verified"
            return {**self._answer(code), "status": 1, "amount": order.amount + self.amount_delta,
                    "refNumber": order.ref_number, "cardNumber": "62741****44", "paidAt": order.paid_at,
                    "orderId": order.order_id, "description": ""}

    @staticmethod
    def _answer(code: int) -> dict:
        return {"result": code, "message": MESSAGES.get(code, "خطا")}

    # --- HTTP -----------------------------------------------------------------------------------------

    def server(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        return ThreadingHTTPServer((host, port), type("Handler", (_Handler,), {"bank": self}))


class _Handler(BaseHTTPRequestHandler):
    bank: DevBank
    server_version = "RAMIS-devbank"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, payload: dict) -> None:
        self._send(200, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _order_id(self) -> int | None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        return _int(parts[1]) if len(parts) == 2 and parts[0] == "start" else None

    def do_GET(self):  # noqa: N802 - http.server's name
        track_id = self._order_id()
        order = self.bank.orders.get(track_id) if track_id else None
        if order is None:
            return self._send(404, "سفارش یافت نشد.".encode(), "text/plain; charset=utf-8")
        page = PAGE.format(track_id=track_id, amount=f"{order.amount:,}", order_id=html.escape(order.order_id))
        return self._send(200, page.encode(), "text/html; charset=utf-8")

    def do_POST(self):  # noqa: N802
        path = urlsplit(self.path).path.rstrip("/")
        body = self._body()
        if path in {"/v1/request", "/v1/verify"}:
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return self._send(400, b'{"result": -1, "message": "bad json"}', "application/json")
            return self._json(self.bank.request(data) if path == "/v1/request" else self.bank.verify(data))
        track_id = self._order_id()
        if track_id is None:
            return self._send(404, b"not found", "text/plain")
        action = parse_qs(body.decode()).get("action", [""])[0]
        location = self.bank.decide(track_id, pay=action == "pay")
        if location is None:
            return self._send(404, "سفارش یافت نشد.".encode(), "text/plain; charset=utf-8")
        return self._send(302, b"", "text/plain", {"Location": location})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>درگاه آزمایشی زیبال</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>درگاه پرداخت آزمایشی (نمونه محلی زیبال)</h1>
<p>این صفحه بانک واقعی نیست: برای توسعه و آزمون است و پولی جابه‌جا نمی‌کند.</p>
<p>شماره پیگیری: {track_id} — شماره سفارش: {order_id}</p>
<p>مبلغ: <strong>{amount} ریال</strong></p>
<form method="post">
<button name="action" value="pay" type="submit">پرداخت</button>
<button name="action" value="cancel" type="submit">انصراف</button>
</form>
</body></html>
"""
