"""Who the demo's people are and what each will do, decided per batch with numpy.

The story's rates are set here, as probabilities per person, before any
event exists; the simulation (``demo_sim``) only places those decisions in
time. Rates that depend on a whole population (bind-card page success, the
next-day return) are calibrated within each batch, so they hold for any
number of users and any window length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ingest import demo_world as w

DAY = 86_400

# --- the story's targets -------------------------------------------------------------------------------
BASE_SHARE = 0.5  # users registered before the window; the rest arrive inside it
AB_INVEST = (0.023, 0.14)  # new app users who invest, by opening-screen variant (AB_VARIANTS order)
NONAPP_INVEST = {w.WEB: 0.004, w.H5: 0.008, w.MINIPROGRAM: 0.008}
BASE_INVESTOR = {"app": 0.005, "nonapp": 0.003}
BIND_PAGE_SUCCESS = 0.28  # of users who open the bind_card page, share who bind a card
NEXT_DAY_APPSTART = 0.28  # of binders, share with an $AppStart the day after the first bind
SECOND_CARD = 0.40  # of binders, share who bind a second card
CAMPAIGN_AUDIENCE = 0.30  # of existing app users with a card who do not invest
CAMPAIGN_INVEST = {1: 0.25, 2: 0.16}  # campaign_group push=1 / holdout=2: invest within 14 days of the send
CAMPAIGN_LEAD_DAYS = 21  # the push goes out this many days before the window's last day


@dataclass(frozen=True)
class Window:
    """The simulated period: ``days`` whole days ending on ``end``; times are seconds from its start."""

    end: date
    days: int

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def seconds(self) -> int:
        return self.days * DAY

    @property
    def start_epoch(self) -> int:
        """Seconds from 1970-01-01 00:00 (naive local time) to the window's start."""
        return (self.start - date(1970, 1, 1)).days * DAY

    def weekday(self, day: int) -> int:
        return (self.start.weekday() + day) % 7

    def day_weights(self, growth: float = 0.0) -> np.ndarray:
        """Relative weight of each day: weekday rhythm, optionally a linear growth over the window."""
        days = np.arange(self.days)
        weekday = np.array(w.WEEKDAY_WEIGHTS)[(self.start.weekday() + days) % 7]
        return weekday * (1.0 + growth * days / max(self.days - 1, 1))

    def releases(self) -> np.ndarray:
        """Release time of each app version (seconds; the first predates the window)."""
        out = []
        for i, frac in enumerate(w.VERSION_RELEASE):
            if i == 0:
                out.append(-(10**9))
            elif frac is None:  # the hotfix after the buggy release
                out.append(out[-1] + int(min(12 * DAY, 0.12 * self.seconds)))
            else:
                out.append(int(frac * self.seconds))
        return np.array(out, dtype=np.int64)

    def campaign_send(self) -> int | None:
        """When the push campaign goes out (10:00 on its day), or None if the window is too short."""
        if self.days < CAMPAIGN_LEAD_DAYS + 7:
            return None
        return (self.days - CAMPAIGN_LEAD_DAYS) * DAY + 10 * 3600


@dataclass
class Plan:
    """Per-person attributes and decisions for one batch (all numpy arrays of the batch's length)."""

    first_index: int
    uid: list[str]  # registered id (u000123)
    anon: list[str]  # anonymous (device/cookie) id, also the user_id of people who never register
    base: np.ndarray  # registered before the window
    platform: np.ndarray
    channel: np.ndarray
    arrival: np.ndarray  # first visit (seconds); 0 for existing users
    city: np.ndarray
    device: np.ndarray  # index into devices()
    gender: np.ndarray
    age: np.ndarray
    risk: np.ndarray
    lag: np.ndarray  # seconds between a release and this user's upgrade
    variant: np.ndarray  # opening-screen A/B arm (app users), -1 otherwise
    register_before: np.ndarray  # existing users: seconds before the window they registered
    will_reg: np.ndarray
    realname: np.ndarray  # real-name verified by the end of the window
    realname_fail: np.ndarray
    has_card: np.ndarray  # existing users: a card bound before the window
    investor: np.ndarray  # invests (new users: the first purchase happens in the window)
    bind: np.ndarray  # binds a first card inside the window
    bind_fail: np.ndarray  # opens the bind_card page and does not bind
    bind2: np.ndarray
    next_day: np.ndarray  # app binders who come back the day after binding
    invest_fail: np.ndarray
    activity: np.ndarray  # background sessions per day
    span: np.ndarray  # seconds of activity before churning
    forex: np.ndarray
    master: np.ndarray  # forex master copied (-1: not a copy trader)
    stock: np.ndarray
    mall: np.ndarray
    principal: np.ndarray  # typical P2P purchase (CNY)
    campaign: np.ndarray  # 0 none, 1 push, 2 holdout
    campaign_invest: np.ndarray
    campaign_click: np.ndarray

    def __len__(self) -> int:
        return len(self.base)


def devices() -> tuple[str, ...]:
    return w.IOS_DEVICES + w.ANDROID_DEVICES + w.WEB_DEVICES


def _pick(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _exactly(rng: np.random.Generator, mask: np.ndarray, share: float) -> np.ndarray:
    """A random ``share`` of the people in ``mask``, as exactly as whole people allow.

    Used for the story's headline rates, so they hold in every batch instead of
    drifting with sampling noise at small sizes.
    """
    idx = np.flatnonzero(mask)
    want = min(share, 1.0) * len(idx)
    k = int(want) + int(rng.random() < want - int(want))
    out = np.zeros(len(mask), dtype=bool)
    out[rng.choice(idx, size=min(k, len(idx)), replace=False)] = True
    return out


def _invest_norms() -> dict[int, float]:
    """Traffic-weighted mean purchase multiplier per platform group, so multipliers keep group rates on target."""
    traffic = np.array([c[5] for c in w.CHANNELS])
    mult = np.array([c[7] for c in w.CHANNELS])
    pw = np.array([c[8] for c in w.CHANNELS])
    norms = {}
    app = traffic * (pw[:, w.IOS] + pw[:, w.ANDROID])
    for p in range(len(w.PLATFORMS)):
        share = app if p in w.APP_PLATFORMS else traffic * pw[:, p]
        norms[p] = float((share * mult).sum() / share.sum())
    return norms


def make_plan(rng: np.random.Generator, seed: int, first_index: int, n: int, window: Window) -> Plan:
    """Draw everyone in one batch: who they are, where from, and which steps of the story they take."""
    u = lambda: rng.random(n)  # noqa: E731
    base = u() < BASE_SHARE
    new = ~base
    traffic = np.array([c[5] for c in w.CHANNELS])
    reg_rate = np.array([c[6] for c in w.CHANNELS])
    mult = np.array([c[7] for c in w.CHANNELS])
    pw = np.array([c[8] for c in w.CHANNELS])

    # Where they come from and on what.
    channel = _pick(rng, traffic, n)
    platform = np.empty(n, dtype=np.int64)
    cum = np.cumsum(pw, axis=1)
    platform[:] = (u()[:, None] * cum[channel, -1][:, None] > cum[channel]).sum(axis=1)
    base_platform = _pick(rng, w.BASE_PLATFORM_WEIGHTS, n)
    platform = np.where(base, base_platform, platform)
    # Existing users' channel: registrants' mix given their platform (the zero channel never registers).
    quality = traffic * reg_rate
    base_channel = np.empty(n, dtype=np.int64)
    for p in range(len(w.PLATFORMS)):
        mask = base & (platform == p)
        weights = quality * (pw[:, p] + 0.05 * (reg_rate > 0))
        base_channel[mask] = _pick(rng, weights, int(mask.sum()))
    channel = np.where(base, base_channel, channel)
    is_app = np.isin(platform, w.APP_PLATFORMS)

    # New users arrive over the whole window, a little more towards its end, on the weekday rhythm.
    day_w = window.day_weights(growth=0.3)
    day = np.searchsorted(np.cumsum(day_w), u() * day_w.sum(), side="right")
    hour_cum = np.array(w.HOUR_CUM)
    hour = np.searchsorted(hour_cum, u() * hour_cum[-1], side="right")
    arrival = np.where(new, np.minimum(day, window.days - 1) * DAY + hour * 3600 + (u() * 3600).astype(np.int64), 0)

    variant = np.where(is_app, _exactly(rng, is_app, 0.5).astype(np.int64), -1)

    # Purchase: new app users by A/B arm, others by platform; channel quality scales both.
    norms = _invest_norms()
    target = np.where(
        is_app,
        np.array(AB_INVEST)[np.maximum(variant, 0)],
        np.array([NONAPP_INVEST.get(p, 0.0) for p in range(len(w.PLATFORMS))])[platform],
    )
    p_invest = target * mult[channel] / np.array([norms[p] for p in range(len(w.PLATFORMS))])[platform]
    base_inv = np.where(is_app, BASE_INVESTOR["app"], BASE_INVESTOR["nonapp"])
    investor = np.where(base, u() < base_inv, u() < p_invest)

    # Registration and onboarding for new users; existing users are registered, most verified.
    p_reg_rest = np.clip((reg_rate[channel] - p_invest) / (1 - p_invest), 0, 1)
    will_reg = np.where(base, True, investor | (u() < p_reg_rest))
    realname = np.where(base, u() < 0.8, will_reg & (u() < 0.55)) | investor
    realname_fail = will_reg & ~realname & (u() < 0.25)
    has_card = base & (investor | (realname & (u() < 0.5)))
    bind = (investor & new) | (new & realname & (u() < 0.25)) | (base & realname & ~has_card & (u() < 0.04))

    # Bind-card page: enough openers who do not succeed that the success share is BIND_PAGE_SUCCESS.
    successes = int(bind.sum())
    candidates = will_reg & ~bind & ~has_card
    need = successes / BIND_PAGE_SUCCESS - successes
    bind_fail = _exactly(rng, candidates, need / max(int(candidates.sum()), 1))
    app_binders = int((bind & is_app).sum())
    next_day = _exactly(rng, bind & is_app, NEXT_DAY_APPSTART * successes / max(app_binders, 1))
    bind2 = _exactly(rng, bind, SECOND_CARD)
    invest_fail = (bind | has_card) & ~investor & (u() < 0.3)

    # Activity: existing users are dormant, casual or active; new visitors churn quickly unless they register.
    level = _pick(rng, (0.45, 0.40, 0.15), n)
    activity = np.where(base, np.array([0.012, 0.08, 0.3])[level], np.where(will_reg, 0.1, 0.08))
    span_days = np.where(
        base,
        np.where(u() < 0.15, u() * window.days, 10 * window.days),
        np.where(will_reg, rng.exponential(30, n), rng.exponential(7, n)),
    )
    span = np.where(investor, 10 * window.seconds, span_days * DAY).astype(np.int64)
    forex = will_reg & is_app & (u() < np.where(base, 0.05, 0.015))
    master = np.where(forex & (u() < 0.45), _pick(rng, w.FOREX_MASTER_WEIGHTS, n), -1)
    stock = will_reg & (u() < np.where(base, np.where(is_app, 0.06, 0.02), 0.02))
    mall = will_reg & (u() < np.where(base, 0.15, 0.08))
    principal = np.maximum(1000, np.round(rng.lognormal(np.log(8000), 0.9, n), -2))

    # Push campaign: existing app users with a card who do not invest, split 50/50 into push and holdout.
    campaign = np.zeros(n, dtype=np.int64)
    if window.campaign_send() is not None:
        audience = base & is_app & has_card & ~investor & (u() < CAMPAIGN_AUDIENCE)
        campaign = np.where(audience, np.where(_exactly(rng, audience, 0.5), 1, 2), 0)
    campaign_invest = _exactly(rng, campaign == 1, CAMPAIGN_INVEST[1]) | _exactly(
        rng, campaign == 2, CAMPAIGN_INVEST[2]
    )
    campaign_click = _exactly(rng, (campaign == 1) & campaign_invest, 0.65) | _exactly(
        rng, (campaign == 1) & ~campaign_invest, 0.18
    )

    # Demographics and devices.
    city = _pick(rng, [c[2] for c in w.CITIES], n)
    ios = _pick(rng, w.IOS_DEVICE_WEIGHTS, n)
    android = len(w.IOS_DEVICES) + _pick(rng, w.ANDROID_DEVICE_WEIGHTS, n)
    web = len(w.IOS_DEVICES) + len(w.ANDROID_DEVICES) + _pick(rng, w.WEB_DEVICE_WEIGHTS, n)
    mobile = np.where(u() < 0.35, ios, android)
    device = np.select([platform == w.IOS, platform == w.ANDROID, platform == w.WEB], [ios, android, web], mobile)
    lag = (rng.exponential(6, n) * DAY + np.where(u() < 0.1, 60 * DAY, 0)).astype(np.int64)
    register_before = ((1 + u() * 720) * DAY).astype(np.int64)

    index = np.arange(first_index, first_index + n)
    uid = [f"u{i:06d}" for i in index.tolist()]
    salt = (seed * 0x2545F4914F6CDD1D + 0x1234567) % 2**64
    anon = [f"{(i * 0x9E3779B97F4A7C15 + salt) % 2**64:016x}" for i in (index + 1).tolist()]

    return Plan(
        first_index=first_index,
        uid=uid,
        anon=anon,
        base=base,
        platform=platform,
        channel=channel,
        arrival=arrival.astype(np.int64),
        city=city,
        device=device,
        gender=_pick(rng, w.GENDER_WEIGHTS, n),
        age=_pick(rng, w.AGE_WEIGHTS, n),
        risk=_pick(rng, w.RISK_WEIGHTS, n),
        lag=lag,
        variant=variant,
        register_before=register_before,
        will_reg=will_reg.astype(bool),
        realname=realname.astype(bool),
        realname_fail=realname_fail,
        has_card=has_card,
        investor=investor.astype(bool),
        bind=bind,
        bind_fail=bind_fail,
        bind2=bind2,
        next_day=next_day,
        invest_fail=invest_fail,
        activity=activity,
        span=span,
        forex=forex,
        master=master,
        stock=stock,
        mall=mall,
        principal=principal,
        campaign=campaign,
        campaign_invest=campaign_invest,
        campaign_click=campaign_click,
    )
