"""The app's own words in Chinese and English (metric, dimension and board labels come from the YAML)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {  # key: (en, zh)
    "date_range": ("Date range", "日期范围"),
    "compare": ("Compare with", "对比周期"),
    "compare_previous": ("Previous period", "上一周期"),
    "compare_year": ("Same period last year", "去年同期"),
    "vs": ("vs", "对比"),
    "breakdown": ("Breakdown", "拆解"),
    "open_breakdown": ("Break down", "拆解"),
    "users": ("Users", "用户"),
    "users_behind": ("Users behind the number", "数字背后的用户"),
    "sequence": ("User sequence", "用户行为序列"),
    "overview": ("Overview", "总览"),
    "boards": ("Boards", "看板"),
    "analysis": ("Analysis", "分析"),
    "explore": ("Explore", "自助分析"),
    "funnel": ("Funnel", "漏斗"),
    "retention": ("Retention", "留存"),
    "channels": ("Channel quality", "渠道质量"),
    "distributions": ("Distributions", "分布"),
    "data_quality": ("Data quality", "数据质量"),
    "no_data": ("The warehouse has no events yet.", "数据仓库中还没有事件。"),
    "loading": ("Loading…", "加载中…"),
    "by": ("by", "按"),
    "pick_value": ("Show the users for", "查看用户："),
    "open_user": ("Open a user's sequence", "查看用户序列"),
    "download_ids": ("Download user ids (CSV)", "下载用户 ID（CSV）"),
    "download_csv": ("Download CSV", "下载 CSV"),
    "page": ("Page", "页码"),
    "user_id": ("User id", "用户 ID"),
    "no_drill": (
        "Pick a number to drill into: click a tile's button or a bar on any board.",
        "请选择要下钻的数字：点击看板上的指标卡按钮或柱形。",
    ),
    "no_user": ("Type a user id, or open one from a user list.", "输入用户 ID，或从用户列表打开。"),
    "no_events": ("No events for this user.", "该用户没有事件。"),
    "sessions": ("sessions", "个会话"),
    "events": ("events", "个事件"),
    "failed": ("failed actions and errors", "失败操作和错误"),
    "metric": ("Metric", "指标"),
    "metrics": ("Metrics", "指标"),
    "dimensions": ("Dimensions", "维度"),
    "grain": ("Time grain", "时间粒度"),
    "where": ("Extra filter (over dimension names)", "附加筛选（维度名表达式）"),
    "dialect": ("SQL dialect", "SQL 方言"),
    "sql": ("Compiled SQL", "编译后的 SQL"),
    "best_channels": ("Best channels by conversion (registration → card bound)", "转化最好的渠道（注册 → 绑卡）"),
    "worst_channels": ("Worst channels by conversion", "转化最差的渠道"),
    "conversion": ("Conversion", "转化率"),
    "marketing": ("Marketing effect", "营销效果"),
    "lines": ("Business lines side by side", "业务线对比"),
    "step": ("Step", "步骤"),
    "dropped": ("Dropped before this step", "在此步骤前流失"),
    "reached": ("Reached this step", "到达此步骤"),
    "cohort": ("Cohort", "同期群"),
    "period": ("Period", "周期"),
    "none": ("(none)", "（无）"),
    "total": ("Total", "合计"),
    "drill_into": ("Drill into", "下钻到"),
    "back": ("Back to the board", "返回看板"),
    "marketing_loop": ("Marketing", "营销"),
    "segments": ("Segments", "用户分群"),
    "intent": ("Purchase intent", "购买意向"),
    "lifecycle": ("Lifecycle & RFM", "生命周期与 RFM"),
    "experiments": ("Experiments", "实验评估"),
    "as_of": ("As of", "截至"),
    "as_of_help": (
        "Behaviour windows, scores and stages are computed from the events up to the end of this day: the sidebar's last day.",
        "行为窗口、评分和阶段按截至该日结束的事件计算：即侧栏日期范围的最后一天。",
    ),
    "saved_segment": ("Saved segment", "已保存分群"),
    "build_segment": ("Build a segment", "新建分群"),
    "definition": (
        "Definition (paste under `segments:` in metrics/segments/*.yml to save it)",
        "定义（粘贴到 metrics/segments/*.yml 的 segments: 下即可保存）",
    ),
    "segment_as_filter": ("A metric inside and outside the segment", "分群内外的指标对比"),
    "in_segment": ("In the segment", "分群内"),
    "not_in_segment": ("Everyone else", "分群外"),
    "members": ("Members", "成员"),
    "variant": ("Variant", "实验组"),
    "control": ("control", "对照组"),
    "rate": ("Conversion rate", "转化率"),
    "lift": ("Lift", "提升"),
    "relative_lift": ("Relative lift", "相对提升"),
    "p_value": ("p-value", "p 值"),
    "interval": ("Interval of the lift", "提升的置信区间"),
    "significant": (
        "Significant at {level}: the difference is unlikely to be chance.",
        "在 {level} 置信水平下显著：差异不太可能是偶然。",
    ),
    "not_significant": (
        "Not significant at {level}: the data cannot tell the variants apart yet.",
        "在 {level} 置信水平下不显著：目前还无法区分各组。",
    ),
    "small_sample": (
        "Fewer than 10 conversions or non-conversions in a group: the normal approximation is rough.",
        "某组转化或未转化人数少于 10：正态近似较粗糙。",
    ),
    "unassigned": ("users without a variant were left out", "名无分组用户未计入"),
    "converted_users": ("Converted", "已转化"),
    "not_converted_users": ("Not converted", "未转化"),
}


def t(key: str, language: str = "en") -> str:
    """``key``'s text in ``language`` (zh or en); the key itself when missing."""
    en, zh = TEXT.get(key, (key, key))
    return zh if language == "zh" else en


_MARKDOWN = {ord(ch): "\\" + ch for ch in "\\`*_{}[]()<>#+-.!|~$:"}


def plain(text: object) -> str:
    """``text`` shown as typed inside Streamlit markdown (captions, titles): no links, emphasis or LaTeX from a URL."""
    return str(text).translate(_MARKDOWN)
