"""Placing each person's plan in time: a schedule of visits, then the visits written out.

One pass per person in plain Python. The schedule holds the onboarding
steps, the monthly purchase cycle (research bursts before a purchase and
after a redemption), background visits on the daily and weekly rhythm and
the push campaign; then every visit is written in time order by the tasks
in ``demo_tasks``. Random numbers come from numpy in bulk (see ``stream``),
so the output is fixed by the batch seed.
"""

from __future__ import annotations

from bisect import bisect
from math import ceil, exp
from types import SimpleNamespace
from typing import Any

import numpy as np

from ingest import demo_world as w
from ingest.demo_plan import DAY, Plan, Window
from ingest.demo_tasks import AB_PROPS, PRODUCT_INVEST_CUM, STOCK_HOURS, TERMS, E, Row, Tasks, cum, stream

SERVER = "server"  # a schedule entry of back-end events, not a visit
PUSH = "push"  # a visit opened from a push notification
# A schedule entry: [start, [(task, arg), ...]] or [start, tasks, SERVER | PUSH]; tasks are added and the start moved in place.
Visit = list[Any]


class Simulator(Tasks):
    """Simulates one batch; ``run`` returns its rows, ``reg_t`` and ``first_end`` describe each person."""

    def __init__(self, plan: Plan, window: Window, rng: np.random.Generator):
        self.q = SimpleNamespace(**{k: v.tolist() for k, v in vars(plan).items() if isinstance(v, np.ndarray)})
        self.n = len(plan)
        self.window = window
        self.days = window.days
        self.rows: list[Row] = []
        self.add = self.rows.append
        self.r = stream(rng.random).__next__
        self.z = stream(rng.standard_normal).__next__
        self.W = window.seconds
        self.cap = window.seconds - 3600  # latest start of a planned visit
        self.day_cum = cum(window.day_weights())
        self.weekday0 = window.start.weekday()
        self.send = window.campaign_send()
        self.reg_t: list[int | None] = [None] * self.n
        self.first_end = [-1] * self.n

    def run(self) -> list[Row]:
        for i in range(self.n):
            self.person(i)
        return self.rows

    # --- time helpers --------------------------------------------------------------------------------------
    def later(self, t: int, mean_days: float, cap: int) -> int:
        """A time after ``t``, about ``mean_days`` later but before ``cap``, at a plausible hour."""
        x = t + 300 + int(self.expo() * mean_days * DAY)
        if x > cap:
            x = t + 300 + int(self.r() * max(cap - t - 300, 0))
        y = (x // DAY) * DAY + self.tod()
        return y if t + 300 <= y <= cap else x

    def day_time(self, t0: int, t1: int) -> int:
        """A visit between ``t0`` and ``t1``: the day weighted by weekday, the hour by the daily rhythm."""
        d0 = t0 // DAY
        d1 = max(d0 + 1, min(ceil(t1 / DAY), self.days))
        lo = self.day_cum[d0 - 1] if d0 > 0 else 0.0
        day = self.pick_day(lo, self.day_cum[d1 - 1])
        day = min(max(day, d0), d1 - 1)
        return min(max(day * DAY + self.tod(), t0 + 600), self.cap)

    def pick_day(self, lo: float, hi: float) -> int:
        return bisect(self.day_cum, lo + self.r() * (hi - lo))

    def poisson(self, mean: float) -> int:
        """A Poisson count from the uniform stream (inversion; normal approximation for large means)."""
        if mean > 30:
            return max(0, int(mean + mean**0.5 * self.z() + 0.5))
        k, prob, target = 0, exp(-mean), self.r()
        total = prob
        while target > total and k < 100:
            k += 1
            prob *= mean / k
            total += prob
        return k

    def purchase(self) -> tuple[int, float]:
        prod = self.pick(PRODUCT_INVEST_CUM)
        return prod, float(max(100.0, round(self.principal * (0.7 + 0.6 * self.r()), -2)))

    # --- one person ----------------------------------------------------------------------------------------
    def person(self, i: int) -> None:
        q = self.q
        self.i = i
        self.app = app = q.platform[i] in w.APP_PLATFORMS
        self.pvc = E["$AppViewScreen"] if app else E["$pageview"]
        self.clk = E["$AppClick"] if app else E["$WebClick"]
        self.base = base = q.base[i]
        self.registered = base
        self.coupons = []
        self.invested = base and q.investor[i]
        self.copied = False
        self.master = q.master[i]
        self.principal = q.principal[i]
        self.exposures = 3 if (app and not base) else 0
        self.ab = AB_PROPS[q.variant[i]] if app else "{}"
        self.cards = 1 if q.has_card[i] else 0
        self.first = not base
        self.channel = q.channel[i]
        self.arrival = a = 0 if base else min(q.arrival[i], self.cap)
        self.tb: int | None = None  # start of the visit with the first successful bind
        self.bind_session: Visit | None = None
        sched: list[Visit] = []
        if base:
            self.plan_existing(i, sched)
        else:
            self.plan_new(i, a, sched)
        self.plan_background(i, a, sched)
        if q.campaign[i]:
            self.plan_campaign(i, sched)
        if self.tb is not None:
            if q.bind2[i]:
                sched.append([self.later(self.tb + 600, 4.0, self.cap), [(self.t_bind, 2)]])
            if app:
                self.next_day_rule(q.next_day[i], sched)
        self.emit(sched)

    def plan_new(self, i: int, a: int, sched: list[Visit]) -> None:
        q = self.q
        first: Visit = [a, [(self.t_land, None)]]
        sched.append(first)
        if not q.will_reg[i]:
            return
        cap = max(min(self.cap, a + q.span[i]), a + 600)
        steps: list[tuple] = [(self.t_register, None)]
        if q.realname[i]:
            steps.append((self.t_realname, True))
        elif q.realname_fail[i]:
            steps.append((self.t_realname, False))
        if q.bind[i]:
            steps.append((self.t_bind, 1))
        elif q.bind_fail[i]:
            steps.append((self.t_bind_fail, None))
        if q.investor[i]:
            t1 = a + 600 + int(self.expo() * 2.5 * DAY)
            if t1 > self.cap:
                t1 = a + 600 + int(self.r() * max(self.cap - a - 600, 0))
            slots: tuple[Visit, Visit, Visit]
            if t1 - a < 1800:
                slots = (first, first, first)
                where = [0] * len(steps)
            else:
                slots = (first, [a + 900 + int(self.r() * (t1 - a - 1800)), []], [t1, []])
                where = [0 if self.r() < 0.8 else 1]
                for _ in steps[1:]:  # each step in the same visit as the last, or a later one
                    where.append(where[-1] if self.r() < 0.55 else min(where[-1] + 1, 2))
                sched.extend(s for s in slots[1:])
            for step, at in zip(steps, where):
                slots[at][1].append(step)
                if step[1] == 1 and step[0] == self.t_bind:
                    self.tb, self.bind_session = slots[at][0], slots[at]
            self.plan_cycles(t1, a, sched, slots[2])
            return
        # Registrants who do not invest: each step in the same visit as the previous one, or a later visit.
        cur: Visit | None = first if self.r() < 0.7 else None
        t = a
        for k, step in enumerate(steps):
            if cur is None or (k > 0 and self.r() > 0.45):
                t = self.later(t, 3.0, cap)
                cur = [t, []]
                sched.append(cur)
            cur[1].append(step)
            if step[1] == 1 and step[0] == self.t_bind:
                self.tb, self.bind_session = cur[0], cur
        if q.invest_fail[i] and q.bind[i]:
            sched.append([self.later(t, 7.0, cap), [(self.t_invest_fail, None)]])

    def plan_existing(self, i: int, sched: list[Visit]) -> None:
        q = self.q
        cap = min(self.cap, max(q.span[i], DAY))
        if q.bind[i] or q.bind_fail[i]:
            t = self.day_time(0, cap)
            s = [t, [(self.t_browse, None), (self.t_bind, 1) if q.bind[i] else (self.t_bind_fail, None)]]
            sched.append(s)
            if q.bind[i]:
                self.tb, self.bind_session = t, s
        if q.invest_fail[i] and not q.campaign[i]:
            sched.append([self.day_time(0, cap), [(self.t_invest_fail, None)]])
        if q.investor[i]:
            # A product bought before the window matures in its first month; the cycle runs on from there.
            red = int(self.r() * 33) * DAY + 9 * 3600 + int(self.r() * 7200)
            if red < self.cap:
                start = self.after_redeem(red, self.purchase(), sched)
                if start is not None:
                    self.plan_cycles(start, red, sched)

    def plan_cycles(self, t: int, since: int, sched: list[Visit], session: Visit | None = None) -> None:
        """Roughly monthly purchases from ``t``: research before each, redemption at maturity, reinvest."""
        while True:
            arg = self.purchase()
            if session is None:
                sched.append([t, [(self.t_invest, arg)]])
            else:
                session[1].append((self.t_invest, arg))
                session = None
            for _ in range(1 + (self.r() < 0.6)):
                tr = t - int((0.2 + self.r() * 3.3) * DAY)
                if tr > since + 900:
                    sched.append([tr, [(self.t_research, None)]])
            red = (t // DAY + TERMS[arg[0]]) * DAY + 9 * 3600 + int(self.r() * 7200)
            if red >= self.cap:
                return
            next_start = self.after_redeem(red, arg, sched)
            if next_start is None:
                return
            t, since = next_start, red

    def after_redeem(self, red: int, arg: tuple[int, float], sched: list[Visit]) -> int | None:
        """The redemption at maturity, the research burst after it; the next purchase time, or None on exit."""
        sched.append([red, [(self.t_redeem, arg)], SERVER])
        if self.r() < 0.12:  # leaves: takes the money out
            sched.append([self.later(red, 1.0, self.cap), [(self.t_withdraw, arg[1])]])
            return None
        for _ in range(1 + (self.r() < 0.5)):
            tr = red + int((0.05 + self.r() * 2) * DAY)
            if tr < self.cap:
                sched.append([tr, [(self.t_research, None)]])
        t = (red // DAY + 1 + int(self.r() * 5)) * DAY + self.tod()
        return t if t < self.cap else None

    def plan_background(self, i: int, a: int, sched: list[Visit]) -> None:
        q = self.q
        end = min(self.W, a + q.span[i])
        rate = max(q.activity[i], 0.45) if (q.forex[i] or q.stock[i]) else q.activity[i]
        count = self.poisson(rate * max(end - a, 0) / DAY)
        if count == 0 and not any(len(s) == 2 for s in sched):
            count = 1  # everyone in the users table shows up at least once
        for _ in range(count):
            t = self.day_time(a, end)
            kind = self.r()
            if q.forex[i] and kind < 0.55 and self.weekday(t) < 5:
                sched.append([t, [(self.t_forex, None)]])
            elif q.stock[i] and kind < 0.6 and self.weekday(t) < 5:
                lo, hi = STOCK_HOURS[int(self.r() * 2)]
                sched.append(
                    [max(t // DAY * DAY + lo + int(self.r() * (hi - lo - 900)), a + 600), [(self.t_stock, None)]]
                )
            elif q.mall[i] and kind < 0.35:
                sched.append([t, [(self.t_mall, True)]])
            elif kind > 0.94:
                sched.append([t, [(self.t_coupon, None)]])
            else:
                sched.append([t, [(self.t_browse, None)]])

    def plan_campaign(self, i: int, sched: list[Visit]) -> None:
        """The push group gets the push (some open it); push and holdout invest at their planned rates."""
        q = self.q
        assert self.send is not None  # people are put in the campaign only when the window has a send
        send = self.send + int(self.r() * 1800)
        end = min((self.send // DAY + 14) * DAY - 3600, self.cap)
        if q.campaign[i] == 1:
            sched.append([send, [(self.t_push_send, None)], SERVER])
        invest = q.campaign_invest[i]
        if q.campaign_click[i]:
            t = min(send + 60 + int(self.expo() * 3 * 3600), end)
            via_push = invest and self.r() < 0.8
            sched.append(
                [
                    t,
                    [
                        (self.t_push_click, None),
                        (self.t_invest, self.purchase()) if via_push else (self.t_browse, None),
                    ],
                    PUSH,
                ]
            )
            invest = invest and not via_push
        if invest:
            t = send + 600 + int(self.r() * (end - send - 600))
            sched.append([t, [(self.t_research, None), (self.t_invest, self.purchase())]])

    def next_day_rule(self, comes_back: bool, sched: list[Visit]) -> None:
        """The day after the first bind holds one visit if this binder comes back, and none otherwise."""
        assert self.tb is not None and self.bind_session is not None  # called only after a first bind
        nd = self.tb // DAY + 1
        if nd >= self.days:
            return
        on_nd = [s for s in sched if s[0] // DAY == nd and (len(s) == 2 or s[2] == PUSH)]
        if comes_back:
            if not on_nd:
                sched.append([min(nd * DAY + self.tod(), self.cap), [(self.t_browse, None)]])
            return
        for s in on_nd:
            if nd + 1 < self.days:
                s[0] = min(s[0] + DAY, self.cap)
            else:  # no later day to move it to: fold it into the binding visit
                self.bind_session[1].extend(s[1][1:] if len(s) == 3 else s[1])
                s[1] = []

    # --- writing visits ------------------------------------------------------------------------------------
    def emit(self, sched: list[Visit]) -> None:
        i = self.i
        sched.sort(key=lambda s: s[0])
        busy = -1
        for s in sched:
            t0, tasks = s[0], s[1]
            if not tasks:
                continue
            if len(s) == 3 and s[2] == SERVER:
                for task, arg in tasks:
                    task(t0, arg)
                continue
            if t0 < busy + 60:
                t0 = busy + 60 + int(self.r() * 900)
            t = t0
            if len(s) == 3:  # PUSH: the notification is clicked, then the app starts
                t = tasks[0][0](t, None)
                tasks = tasks[1:]
            t = self.start(t)
            for task, arg in tasks:
                t = task(t, arg)
            if self.app:
                t += 2 + int(self.r() * 20)
                self.add((i, t, E["$AppEnd"], -1, -1, -1, None, float(t - t0), -1, None, "{}"))
            busy = t
            if self.first:
                self.first = False
                self.first_end[i] = t

    def start(self, t: int) -> int:
        """Opening a visit: app start (and the opening screen while in the A/B test), sometimes a login."""
        if self.app:
            t = self.ev(t, E["$AppStart"], props='{"is_first_time":true}' if self.first else '{"is_first_time":false}')
            if self.exposures and t < self.arrival + 14 * DAY:
                self.exposures -= 1
                t = self.pv(t, w.PG["opening_screen"], props=self.ab)
        if self.registered and self.r() < 0.25:
            t = self.ev(t, E["login"], props=f'{{"method":"{w.LOGIN_METHODS[int(self.r() * 3)]}"}}')
        return t

    def t_land(self, t: int, _: object) -> int:
        """The first visit: ads land on a product, search on the list, the rest on home."""
        medium = w.CHANNELS[self.channel][1]
        if self.app or medium not in ("feed", "cps", "cpc", "organic"):
            t = self.pv(t, w.PG["home"])
        elif medium in ("feed", "cps"):
            t = self.pv(t, w.PG["product_detail"], self.pick(PRODUCT_INVEST_CUM))
        else:
            t = self.pv(t, w.PG["product_list"])
        for _ in range(int(self.expo() * 1.2)):
            t = self.browse_page(t)
        return t
