"""The demo's fixed vocabulary and the weights behind its story.

Every name here (events, pages, elements, channels, property values) is what
the metric catalog in ``metrics/`` filters on, so it is declared once and the
generator refers to it by index. The numbers are the knobs of the story told
in ``ingest/README.md``; change them here, not in the simulation.
"""

from __future__ import annotations

from itertools import accumulate

PLATFORMS = ("iOS", "Android", "Web", "H5", "MiniProgram")
IOS, ANDROID, WEB, H5, MINIPROGRAM = range(5)
APP_PLATFORMS = (IOS, ANDROID)

EVENTS = (
    "$AppViewScreen",
    "$pageview",
    "$AppClick",
    "$WebClick",
    "$AppStart",
    "$AppEnd",
    "register",
    "login",
    "realname_auth",
    "bind_card",
    "deposit",
    "withdraw",
    "share",
    "app_error",
    "push_send",
    "push_click",
    "coupon_receive",
    "P2P_order_submit",
    "P2P_invest",
    "P2P_redeem",
    "forex_trade",
    "forex_copy",
    "stock_trade",
    "stock_portfolio_buy",
    "life_exchange",
    "life_item_view",
)
EV = {name: i for i, name in enumerate(EVENTS)}

PAGES = (
    "home",
    "product_list",
    "product_detail",
    "register",
    "realname",
    "bind_card",
    "deposit",
    "withdraw",
    "credit_report",
    "forex_market",
    "forex_master",
    "stock_market",
    "stock_detail",
    "mall_home",
    "mall_item",
    "profile",
    "opening_screen",
    "coupon_center",
)
PG = {name: i for i, name in enumerate(PAGES)}

ELEMENTS = (
    "invest_button",
    "register_submit",
    "realname_submit",
    "bind_card_submit",
    "share_button",
    "banner",
    "buy_button",
    "sell_button",
    "copy_button",
    "trade_button",
    "exchange_button",
    "deposit_button",
    "withdraw_button",
    "product_card",
    "receive_button",
)
EL = {name: i for i, name in enumerate(ELEMENTS)}

BUSINESS_LINES = ("platform", "life", "forex", "p2p", "stock")


def page_business_line(page: str) -> str:
    """A page belongs to the area its name starts with; the rest is the platform shell."""
    for prefix, line in (("product_", "p2p"), ("forex_", "forex"), ("stock_", "stock"), ("mall_", "life")):
        if page.startswith(prefix):
            return line
    return "platform"


def event_business_line(event: str) -> str:
    """Business events carry their line in their name; coupons belong to P2P."""
    for prefix, line in (("P2P_", "p2p"), ("forex_", "forex"), ("stock_", "stock"), ("life_", "life")):
        if event.startswith(prefix):
            return line
    return "p2p" if event == "coupon_receive" else "platform"


# Acquisition channels of new users: (utm_source, utm_medium, utm_campaign, utm_content, utm_term,
# share of new-user traffic, registration rate, purchase multiplier, platform weights iOS/Android/Web/H5/MP).
# The purchase multiplier is relative: it is normalised over each platform group's channel mix so the
# group's overall purchase rate stays at its target (see demo_plan).
CHANNELS = (
    ("toutiao", "feed", "p2p_autumn", "video_a", None, 0.22, 0.06, 0.25, (0.15, 0.45, 0.0, 0.40, 0.0)),
    ("douyin", "feed", "p2p_autumn", "video_b", None, 0.16, 0.07, 0.30, (0.20, 0.40, 0.0, 0.40, 0.0)),
    ("baidu_sem", "cpc", "brand_search", "text_1", "licai", 0.12, 0.22, 1.30, (0.10, 0.15, 0.45, 0.30, 0.0)),
    ("appstore", "app_store", "aso", None, None, 0.09, 0.45, 1.40, (1.0, 0.0, 0.0, 0.0, 0.0)),
    ("huawei_store", "app_store", "aso", None, None, 0.07, 0.42, 1.20, (0.0, 1.0, 0.0, 0.0, 0.0)),
    ("xiaomi_store", "app_store", "aso", None, None, 0.05, 0.38, 1.00, (0.0, 1.0, 0.0, 0.0, 0.0)),
    ("wechat", "social", "official_account", "article", None, 0.09, 0.25, 0.80, (0.0, 0.0, 0.0, 0.30, 0.70)),
    ("invite", "referral", "invite_friends", "poster", None, 0.04, 0.70, 3.50, (0.35, 0.45, 0.0, 0.20, 0.0)),
    ("seo", "organic", None, None, None, 0.06, 0.12, 0.70, (0.0, 0.0, 0.80, 0.20, 0.0)),
    ("union_cps", "cps", "union_q4", "banner_300x250", None, 0.10, 0.0, 0.0, (0.0, 0.30, 0.20, 0.50, 0.0)),
)
ZERO_CHANNEL = "union_cps"  # traffic, never a registration: the channel to cut

# Existing (registered before the window) users: platform mix.
BASE_PLATFORM_WEIGHTS = (0.36, 0.44, 0.08, 0.04, 0.08)

# (province, city, weight); pinyin names.
CITIES = (
    ("Guangdong", "Guangzhou", 5),
    ("Guangdong", "Shenzhen", 5),
    ("Guangdong", "Dongguan", 2),
    ("Guangdong", "Foshan", 2),
    ("Zhejiang", "Hangzhou", 4),
    ("Zhejiang", "Ningbo", 2),
    ("Zhejiang", "Wenzhou", 2),
    ("Jiangsu", "Nanjing", 3),
    ("Jiangsu", "Suzhou", 3),
    ("Jiangsu", "Wuxi", 2),
    ("Beijing", "Beijing", 6),
    ("Shanghai", "Shanghai", 6),
    ("Shandong", "Jinan", 2),
    ("Shandong", "Qingdao", 3),
    ("Shandong", "Yantai", 2),
    ("Sichuan", "Chengdu", 5),
    ("Sichuan", "Mianyang", 1),
    ("Henan", "Zhengzhou", 4),
    ("Henan", "Luoyang", 2),
    ("Hubei", "Wuhan", 4),
    ("Hubei", "Yichang", 1),
    ("Hunan", "Changsha", 3),
    ("Hunan", "Zhuzhou", 1),
    ("Fujian", "Fuzhou", 2),
    ("Fujian", "Xiamen", 2),
    ("Fujian", "Quanzhou", 1),
    ("Hebei", "Shijiazhuang", 2),
    ("Hebei", "Tangshan", 2),
    ("Anhui", "Hefei", 3),
    ("Shaanxi", "Xian", 3),
    ("Chongqing", "Chongqing", 3),
    ("Liaoning", "Shenyang", 2),
    ("Liaoning", "Dalian", 2),
    ("Guangxi", "Nanning", 2),
    ("Yunnan", "Kunming", 2),
    ("Jiangxi", "Nanchang", 2),
    ("Tianjin", "Tianjin", 2),
)

IOS_DEVICES = (
    "iPhone 16 Pro",
    "iPhone 16",
    "iPhone 15 Pro Max",
    "iPhone 15",
    "iPhone 14",
    "iPhone 13",
    "iPhone 12",
    "iPad Air",
)
IOS_DEVICE_WEIGHTS = (10, 12, 8, 16, 16, 14, 8, 3)
ANDROID_DEVICES = (
    "HUAWEI Mate 60 Pro",
    "HUAWEI P60",
    "Xiaomi 14",
    "Redmi K70",
    "OPPO Reno11",
    "OPPO A2",
    "vivo X100",
    "vivo Y36",
    "HONOR 90",
    "OnePlus 12",
    "Samsung Galaxy S24",
)
ANDROID_DEVICE_WEIGHTS = (12, 8, 10, 9, 9, 7, 9, 7, 9, 3, 3)
WEB_DEVICES = ("PC", "Mac")
WEB_DEVICE_WEIGHTS = (8, 2)

GENDERS = ("male", "female")
GENDER_WEIGHTS = (0.58, 0.42)
AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_WEIGHTS = (0.14, 0.38, 0.28, 0.13, 0.07)
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
RISK_WEIGHTS = (0.10, 0.30, 0.35, 0.18, 0.07)

# App versions, the window fraction at which each is released (5.0.0 predates the window), and the
# app_error probability per app page view: 5.2.0 shipped a crash that 5.2.1 fixed.
APP_VERSIONS = ("5.0.0", "5.1.0", "5.2.0", "5.2.1", "5.3.0")
VERSION_RELEASE = (None, 0.15, 0.40, None, 0.72)  # 5.2.1: the hotfix, 12 days (at most 12% of the window) later
ERROR_RATE = (0.006, 0.005, 0.045, 0.005, 0.004)
ERROR_CODES = ("NET_TIMEOUT", "API_5XX", "WEBVIEW_BLANK", "RENDER_CRASH")
BUG_ERROR_CODE = "NULL_POINTER"  # what the 5.2.0 crash reports

# P2P products: (product_id, product_type, term_days, annual_rate) and how often investors pick each.
PRODUCTS = (
    ("FP30001", "bond", 30, 0.042),
    ("FP30002", "bond", 30, 0.045),
    ("FP30003", "money", 30, 0.026),
    ("FP30004", "mixed", 30, 0.052),
    ("FP30005", "index", 30, 0.048),
    ("FP30006", "stock", 30, 0.061),
    ("FP14001", "money", 14, 0.023),
    ("FP14002", "bond", 14, 0.036),
    ("FP60001", "bond", 60, 0.049),
    ("FP60002", "mixed", 60, 0.056),
    ("FP90001", "bond", 90, 0.053),
    ("FP90002", "stock", 90, 0.072),
    ("FP90003", "index", 90, 0.060),
)
PRODUCT_INVEST_WEIGHTS = (16, 14, 10, 10, 10, 9, 5, 5, 5, 4, 5, 4, 3)
PRODUCT_BROWSE_WEIGHTS = (10, 9, 6, 8, 8, 9, 4, 4, 5, 5, 6, 8, 6)
PRODUCT_PROPS = tuple(f'{{"term_days":{term},"annual_rate":{rate}}}' for _, _, term, rate in PRODUCTS)

COUPONS = (("CPN_NEW_20", 20), ("CPN_NEW_50", 50), ("CPN_MONTH_10", 10), ("CPN_VIP_100", 100))
BANKS = ("ICBC", "CCB", "ABC", "BOC", "CMB", "BOCOM", "PSBC", "CIB")
BANK_WEIGHTS = (18, 16, 14, 12, 14, 8, 10, 8)
REALNAME_FAILS = ("id_mismatch", "face_verify_failed", "id_expired")
BIND_FAILS = ("card_info_mismatch", "sms_code_error", "bank_not_supported", "phone_not_match")
BIND_FAIL_WEIGHTS = (40, 25, 15, 20)
INVEST_FAILS = ("insufficient_balance", "risk_level_mismatch", "product_sold_out", "limit_exceeded")
LOGIN_METHODS = ("password", "sms", "face_id")
SHARE_CHANNELS = ("wechat_friend", "wechat_moments", "weibo", "qq")

FOREX_SYMBOLS = ("EURUSD", "USDJPY", "GBPUSD", "XAUUSD", "AUDUSD", "USDCNH")
FOREX_SYMBOL_WEIGHTS = (24, 16, 12, 26, 8, 14)
# Master investors copied by followers: very unequal popularity.
FOREX_MASTERS = ("FM001", "FM002", "FM003", "FM004", "FM005", "FM006", "FM007", "FM008")
FOREX_MASTER_WEIGHTS = (40, 22, 13, 9, 6, 5, 3, 2)
STOCKS = ("600519", "000858", "300750", "601318", "000001", "600036", "002594", "688981", "601012", "000333")
STOCK_WEIGHTS = (14, 9, 13, 10, 8, 9, 12, 8, 7, 10)
PORTFOLIOS = ("PF_GROWTH", "PF_DIVIDEND", "PF_TECH", "PF_CONSUMER", "PF_BALANCED")
MALL_ITEMS = (
    ("coffee_voucher", 800),
    ("phone_credit_10", 1000),
    ("movie_ticket", 2000),
    ("umbrella", 3000),
    ("gym_pass", 4000),
    ("jd_card_50", 5000),
    ("tea_gift_box", 6000),
)
MALL_ITEM_WEIGHTS = (30, 22, 16, 10, 8, 9, 5)
CRAWLER_AGENTS = ("Baiduspider", "Sogou web spider", "Bytespider", "YisouSpider")

PUSH_CAMPAIGN = "reactivate_2026q4"
AB_VARIANTS = ("fund_security", "high_yield")

# Activity rhythm: relative weight of each hour of the day and of each weekday (Monday first).
HOUR_WEIGHTS = (
    1.5,
    0.9,
    0.5,
    0.3,
    0.3,
    0.4,
    1.0,
    2.4,
    4.2,
    5.2,
    5.4,
    5.6,
    6.2,
    5.6,
    5.2,
    5.2,
    5.3,
    5.5,
    5.8,
    6.6,
    7.6,
    8.0,
    6.4,
    3.4,
)
WEEKDAY_WEIGHTS = (1.0, 1.02, 1.0, 1.0, 0.97, 0.78, 0.74)
HOUR_CUM = tuple(accumulate(HOUR_WEIGHTS))
