"""What happens inside a visit: the page views, clicks and business events of each task.

Each task takes the time it starts and returns the time it ends, appending
rows as it goes; ``demo_sim`` decides which tasks a visit holds. Kept apart
from the scheduling so each reads on its own.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Iterator
from math import exp, log

import numpy as np

from ingest import demo_world as w
from ingest.demo_plan import DAY

# A row, as demo_arrow reads it: (person, t, event, page, element, product, amount, duration, success, fail, props)
Row = tuple

E = w.EV
P = w.PG
L = w.EL
DWELL = (12, 20, 45, 40, 50, 60, 35, 30, 40, 60, 40, 50, 40, 20, 25, 15, 4, 15)  # median seconds, PAGES order
BROWSE_PAGES = (
    P["product_list"],
    P["product_detail"],
    P["profile"],
    P["mall_home"],
    P["forex_market"],
    P["stock_market"],
    P["credit_report"],
    P["coupon_center"],
)


def cum(weights) -> tuple[float, ...]:
    return tuple(np.cumsum(weights).tolist())


BROWSE_CUM = cum((24, 20, 10, 8, 6, 6, 5, 4))
PRODUCT_INVEST_CUM = cum(w.PRODUCT_INVEST_WEIGHTS)
PRODUCT_BROWSE_CUM = cum(w.PRODUCT_BROWSE_WEIGHTS)
BANK_CUM = cum(w.BANK_WEIGHTS)
BIND_FAIL_CUM = cum(w.BIND_FAIL_WEIGHTS)
SYMBOL_CUM = cum(w.FOREX_SYMBOL_WEIGHTS)
MASTER_CUM = cum(w.FOREX_MASTER_WEIGHTS)
STOCK_CUM = cum(w.STOCK_WEIGHTS)
ITEM_CUM = cum(w.MALL_ITEM_WEIGHTS)
HOUR_CUM = w.HOUR_CUM
TERMS = tuple(p[2] for p in w.PRODUCTS)
RATES = tuple(p[3] for p in w.PRODUCTS)
STOCK_HOURS = ((9 * 3600 + 1800, 11 * 3600 + 1800), (13 * 3600, 15 * 3600))  # A-share trading sessions
AB_PROPS = tuple(f'{{"ab_opening_screen":"{v}"}}' for v in w.AB_VARIANTS)
COUPON_PROPS = tuple(f'{{"coupon_id":"{c}","coupon_value":{v}}}' for c, v in w.COUPONS)
PUSH_PROPS = f'{{"campaign_id":"{w.PUSH_CAMPAIGN}"}}'


def stream(draw: Callable[[int], np.ndarray]) -> Iterator[float]:
    """Numbers drawn from numpy in bulk, handed out one at a time (much cheaper than one call each)."""
    while True:
        yield from draw(65_536).tolist()


class Tasks:
    """Emitting rows for the person ``self.i``; the state below is set by ``Simulator.person``."""

    rows: list[Row]
    add: Callable[[Row], None]
    r: Callable[[], float]
    z: Callable[[], float]
    i: int
    app: bool
    pvc: int
    clk: int
    registered: bool
    invested: bool
    cards: int
    coupons: list[int]
    master: int
    copied: bool
    reg_t: list[int | None]
    weekday0: int
    W: int

    # --- random helpers ------------------------------------------------------------------------------------
    def pick(self, cumulative: tuple[float, ...]) -> int:
        return bisect(cumulative, self.r() * cumulative[-1])

    def expo(self) -> float:
        return -log(1.0 - self.r())

    def tod(self) -> int:
        """A time of day on the daily rhythm (seconds after midnight)."""
        return bisect(HOUR_CUM, self.r() * HOUR_CUM[-1]) * 3600 + int(self.r() * 3600)

    def weekday(self, t: int) -> int:
        return (self.weekday0 + t // DAY) % 7

    def in_stock_hours(self, t: int) -> bool:
        s = t % DAY
        return self.weekday(t) < 5 and any(lo <= s < hi for lo, hi in STOCK_HOURS)

    # --- emitting ------------------------------------------------------------------------------------------
    def pv(self, t: int, page: int, prod: int = -1, props: str = "{}") -> int:
        d = max(2, int(DWELL[page] * exp(0.7 * self.z())))
        self.add((self.i, t, self.pvc, page, -1, prod, None, float(d), -1, None, props))
        return t + d

    def click(self, t: int, page: int, elem: int, prod: int = -1) -> int:
        self.add((self.i, t, self.clk, page, elem, prod, None, None, -1, None, "{}"))
        return t + 1 + int(self.r() * 3)

    def ev(
        self,
        t: int,
        code: int,
        page: int = -1,
        prod: int = -1,
        amount: float | None = None,
        succ: int = -1,
        fail: str | None = None,
        props: str = "{}",
    ) -> int:
        self.add((self.i, t, code, page, -1, prod, amount, None, succ, fail, props))
        return t + 1 + int(self.r() * 4)

    # --- browsing ------------------------------------------------------------------------------------------
    def t_browse(self, t: int, _: object) -> int:
        t = self.pv(t, P["home"])
        if self.r() < 0.15:
            t = self.click(t, P["home"], L["banner"])
        for _ in range(1 + int(self.expo() * 1.5)):
            t = self.browse_page(t)
        return t

    def browse_page(self, t: int) -> int:
        page = BROWSE_PAGES[self.pick(BROWSE_CUM)]
        if page == P["product_detail"]:
            prod = self.pick(PRODUCT_BROWSE_CUM)
            t = self.pv(t, page, prod)
            x = self.r()
            if x < 0.03:
                t = self.click(t, page, L["invest_button"], prod)
            elif x < 0.06:
                t = self.share(t, page, prod)
            return t
        if page == P["product_list"]:
            t = self.pv(t, page)
            if self.r() < 0.5:
                prod = self.pick(PRODUCT_BROWSE_CUM)
                t = self.click(t, page, L["product_card"], prod)
                t = self.pv(t, P["product_detail"], prod)
            return t
        if page == P["mall_home"] and self.r() < 0.4:
            return self.t_mall(t, False)
        if page == P["coupon_center"] and self.r() < 0.3:
            return self.t_coupon(t, None)
        if page == P["stock_market"] and self.r() < 0.4:
            t = self.pv(t, page)
            return self.pv(t, P["stock_detail"], props=f'{{"symbol":"{w.STOCKS[self.pick(STOCK_CUM)]}"}}')
        return self.pv(t, page)

    def t_research(self, t: int, _: object) -> int:
        """The burst before a purchase or after a redemption: the product list and several products."""
        t = self.pv(t, P["product_list"])
        for _ in range(2 + int(self.r() * 3)):
            prod = self.pick(PRODUCT_BROWSE_CUM)
            t = self.click(t, P["product_list"], L["product_card"], prod)
            t = self.pv(t, P["product_detail"], prod)
        if self.r() < 0.2:
            t = self.pv(t, P["credit_report"])
        return t

    def share(self, t: int, page: int, prod: int = -1) -> int:
        t = self.click(t, page, L["share_button"], prod)
        return self.ev(t, E["share"], page, prod, props=f'{{"channel":"{w.SHARE_CHANNELS[int(self.r() * 4)]}"}}')

    # --- onboarding ----------------------------------------------------------------------------------------
    def t_register(self, t: int, _: object) -> int:
        t = self.pv(t, P["register"])
        t = self.click(t, P["register"], L["register_submit"])
        self.reg_t[self.i] = t
        self.registered = True
        t = self.ev(t, E["register"], succ=1, props='{"method":"phone"}')
        if self.r() < 0.6:  # the new-user coupon pack
            t = self.receive(t, int(self.r() * 2))
        return t

    def t_realname(self, t: int, ok: bool) -> int:
        t = self.pv(t, P["realname"])
        t = self.click(t, P["realname"], L["realname_submit"])
        if not ok or self.r() < 0.2:
            t = self.ev(t, E["realname_auth"], succ=0, fail=w.REALNAME_FAILS[int(self.r() * 3)])
            if not ok:
                return t
            t = self.click(t + 20, P["realname"], L["realname_submit"])
        return self.ev(t, E["realname_auth"], succ=1)

    def bind_props(self, index: int) -> str:
        return f'{{"bank":"{w.BANKS[self.pick(BANK_CUM)]}","card_index":{index}}}'

    def t_bind(self, t: int, index: int) -> int:
        t = self.pv(t, P["bind_card"])
        t = self.click(t, P["bind_card"], L["bind_card_submit"])
        if self.r() < 0.3:
            t = self.ev(
                t, E["bind_card"], succ=0, fail=w.BIND_FAILS[self.pick(BIND_FAIL_CUM)], props=self.bind_props(index)
            )
            t = self.click(t + 15, P["bind_card"], L["bind_card_submit"])
        self.cards = index
        return self.ev(t, E["bind_card"], succ=1, props=self.bind_props(index))

    def t_bind_fail(self, t: int, _: object) -> int:
        t = self.pv(t, P["bind_card"])
        if self.r() < 0.6:
            for _ in range(1 + (self.r() < 0.35)):
                t = self.click(t, P["bind_card"], L["bind_card_submit"])
                t = self.ev(
                    t,
                    E["bind_card"],
                    succ=0,
                    fail=w.BIND_FAILS[self.pick(BIND_FAIL_CUM)],
                    props=self.bind_props(self.cards + 1),
                )
        return t

    # --- money ---------------------------------------------------------------------------------------------
    def deposit(self, t: int, amount: float) -> int:
        t = self.pv(t, P["deposit"])
        t = self.click(t, P["deposit"], L["deposit_button"])
        if self.r() < 0.05:  # the bank's single-payment limit; the user pays again
            t = self.ev(t, E["deposit"], amount=amount, succ=0, fail="bank_limit_exceeded")
            t = self.click(t + 10, P["deposit"], L["deposit_button"])
        return self.ev(t, E["deposit"], amount=amount, succ=1, props=f'{{"bank":"{w.BANKS[self.pick(BANK_CUM)]}"}}')

    def order(self, t: int, prod: int, amount: float) -> int:
        t = self.pv(t, P["product_detail"], prod)
        t = self.click(t, P["product_detail"], L["invest_button"], prod)
        return self.ev(t, E["P2P_order_submit"], prod=prod, amount=amount, props=w.PRODUCT_PROPS[prod])

    def t_invest(self, t: int, arg: tuple[int, float]) -> int:
        """A successful purchase (the funnel's last step), with a deposit first when money is short."""
        prod, amount = arg
        t = self.pv(t, P["product_list"])
        if self.r() < 0.5:
            t = self.pv(t, P["product_detail"], self.pick(PRODUCT_BROWSE_CUM))
        if not self.invested or self.r() < 0.1:
            t = self.deposit(t, amount + 100 * int(self.r() * 20))
        t = self.order(t, prod, amount)
        if self.r() < 0.08:
            t = self.ev(
                t,
                E["P2P_invest"],
                prod=prod,
                amount=amount,
                succ=0,
                fail="insufficient_balance",
                props=w.PRODUCT_PROPS[prod],
            )
            t = self.deposit(t, amount)
            t = self.order(t, prod, amount)
        props = w.PRODUCT_PROPS[prod]
        if self.coupons and self.r() < 0.7:
            props = f'{props[:-1]},"coupon_id":"{w.COUPONS[self.coupons.pop()][0]}"}}'
        self.invested = True
        return self.ev(t, E["P2P_invest"], prod=prod, amount=amount, succ=1, props=props)

    def t_invest_fail(self, t: int, _: object) -> int:
        prod = self.pick(PRODUCT_INVEST_CUM)
        amount = float(100 * (10 + int(self.r() * 200)))
        t = self.pv(t, P["product_list"])
        t = self.order(t, prod, amount)
        fail = "risk_level_mismatch" if self.r() < 0.5 else w.INVEST_FAILS[self.pick((5, 6, 8, 9))]
        return self.ev(t, E["P2P_invest"], prod=prod, amount=amount, succ=0, fail=fail, props=w.PRODUCT_PROPS[prod])

    def t_redeem(self, t: int, arg: tuple[int, float]) -> int:
        prod, amount = arg
        paid = round(amount * (1 + RATES[prod] * TERMS[prod] / 365), 2)
        return self.ev(t, E["P2P_redeem"], prod=prod, amount=paid, succ=1)

    def t_withdraw(self, t: int, amount: float) -> int:
        t = self.pv(t, P["profile"])
        t = self.pv(t, P["withdraw"])
        t = self.click(t, P["withdraw"], L["withdraw_button"])
        ok = self.r() > 0.03
        return self.ev(t, E["withdraw"], amount=amount, succ=int(ok), fail=None if ok else "daily_limit_exceeded")

    # --- coupons and points mall ---------------------------------------------------------------------------
    def receive(self, t: int, coupon: int) -> int:
        self.coupons.append(coupon)
        return self.ev(t, E["coupon_receive"], props=COUPON_PROPS[coupon])

    def t_coupon(self, t: int, _: object) -> int:
        t = self.pv(t, P["coupon_center"])
        if self.registered:
            t = self.click(t, P["coupon_center"], L["receive_button"])
            t = self.receive(t, 2 if self.r() < 0.8 else 3)
        return t

    def t_mall(self, t: int, exchange: bool) -> int:
        t = self.pv(t, P["mall_home"])
        for _ in range(1 + int(self.r() * 3)):
            item = self.pick(ITEM_CUM)
            props = f'{{"item":"{w.MALL_ITEMS[item][0]}"}}'
            self.ev(t + 1, E["life_item_view"], props=props)
            t = self.pv(t, P["mall_item"], props=props)
        if exchange and self.registered and self.r() < 0.35:
            name, points = w.MALL_ITEMS[item]
            t = self.click(t, P["mall_item"], L["exchange_button"])
            t = self.ev(t, E["life_exchange"], succ=1, props=f'{{"item":"{name}","points":{points}}}')
        return t

    # --- forex and stocks ----------------------------------------------------------------------------------
    def trade_props(self, copy: bool) -> str:
        """A trade's properties; a copied trade names the master it copies (as the server records it)."""
        direction = "buy" if self.r() < 0.55 else "sell"
        master = f',"master_id":"{w.FOREX_MASTERS[self.master]}"' if copy else ""
        return (
            f'{{"symbol":"{w.FOREX_SYMBOLS[self.pick(SYMBOL_CUM)]}","direction":"{direction}",'
            f'"is_copy":{"true" if copy else "false"}{master}}}'
        )

    def forex_amount(self) -> float:
        return float(round(1000 * exp(1.2 + 0.9 * self.z()), -2) + 100)

    def t_forex(self, t: int, _: object) -> int:
        t = self.pv(t, P["forex_market"])
        if self.master >= 0 and not self.copied:
            props = f'{{"master_id":"{w.FOREX_MASTERS[self.master]}"}}'
            t = self.pv(t, P["forex_master"], props=props)
            t = self.click(t, P["forex_master"], L["copy_button"])
            t = self.ev(t, E["forex_copy"], props=props)
            self.copied = True
            self.copy_trades(t)
        elif self.r() < 0.25:
            t = self.pv(t, P["forex_master"], props=f'{{"master_id":"{w.FOREX_MASTERS[self.pick(MASTER_CUM)]}"}}')
        if self.weekday(t) < 5:
            for _ in range(1 + int(self.expo() * 0.8)):
                t = self.click(t, P["forex_market"], L["trade_button"])
                t = self.ev(t, E["forex_trade"], amount=self.forex_amount(), props=self.trade_props(False))
        return t

    def copy_trades(self, t: int) -> None:
        """Trades the master makes for this follower from now on (server side, weekdays)."""
        while True:
            t += int(self.expo() * 1.6 * DAY)
            if t >= self.W:
                return
            if self.weekday(t) < 5:
                self.ev(t, E["forex_trade"], amount=self.forex_amount(), props=self.trade_props(True))

    def t_stock(self, t: int, _: object) -> int:
        t = self.pv(t, P["stock_market"])
        for _ in range(1 + int(self.r() * 3)):
            symbol = w.STOCKS[self.pick(STOCK_CUM)]
            t = self.pv(t, P["stock_detail"], props=f'{{"symbol":"{symbol}"}}')
        if self.in_stock_hours(t) and self.in_stock_hours(t + 30) and self.r() < 0.7:
            side = "buy" if self.r() < 0.6 else "sell"
            t = self.click(t, P["stock_detail"], L["buy_button"] if side == "buy" else L["sell_button"])
            amount = float(round(1000 * exp(2.0 + 0.8 * self.z()), -2) + 100)
            t = self.ev(t, E["stock_trade"], amount=amount, props=f'{{"symbol":"{symbol}","side":"{side}"}}')
        if self.r() < 0.1:
            portfolio = w.PORTFOLIOS[int(self.r() * len(w.PORTFOLIOS))]
            t = self.ev(
                t,
                E["stock_portfolio_buy"],
                amount=float(1000 * (1 + int(self.r() * 50))),
                props=f'{{"portfolio_id":"{portfolio}"}}',
            )
        return t

    # --- push ----------------------------------------------------------------------------------------------
    def t_push_send(self, t: int, _: object) -> int:
        return self.ev(t, E["push_send"], props=PUSH_PROPS)

    def t_push_click(self, t: int, _: object) -> int:
        return self.ev(t, E["push_click"], props=PUSH_PROPS)
