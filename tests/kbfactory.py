"""Build small knowledge bases on disk for tests of loading and validation."""

from __future__ import annotations

from pathlib import Path

TOPICS = """
[[topic]]
id = "fees"
en = "Fees"
zh = "收费"

[[topic]]
id = "reissue"
en = "Lost card"
zh = "补办"
"""

ENTRIES = """
[[entry]]
id = "fees"
theme = "time-fees"
audience = ["applicant", "employer"]
title_en = "Fees"
title_zh = "收费"
questions_en = ["how much does the work permit cost", "is there a fee", "do I pay anything", "work permit price"]
questions_zh = ["工作许可收费吗", "办证要交钱吗", "申请费用是多少", "办理要花多少钱"]
answer_en = "The work permit is free. Ask {office_name}."
answer_zh = "工作许可不收费。请咨询{office_name}。"
sources = ["CN"]
related = ["reissue"]

[[entry]]
id = "reissue"
theme = "reissue"
title_en = "Lost card"
title_zh = "补办"
questions_en = ["i lost my work permit card", "card damaged", "replace a lost permit", "my card was stolen"]
questions_zh = ["工作许可证丢了", "证件损坏怎么办", "补办工作许可证", "证被偷了"]
answer_en = "Apply for a reissue online."
answer_zh = "请在系统中申请补办。"
sources = ["SH-RE"]
"""

PROFILE = """
[en]
office_name = "the office"
office_address = "somewhere"
office_hours = "weekdays"
office_phone = "12345"
[zh]
office_name = "办理窗口"
office_address = "某处"
office_hours = "工作日"
office_phone = "12345"
[hours]
days = [1, 2, 3, 4, 5]
open = "09:00"
close = "17:00"
"""

SOURCES = """
[CN]
title_en = "Changning (Shanghai) Science and Technology Commission: 2022 report on administrative licensing"
title_zh = "长宁区科学技术委员会2022年度行政许可实施情况年度报告"
issuer = "长宁区科学技术委员会"
year = 2022
official = false

[SH-RE]
title_en = "Shanghai: work permit reissue (zwdt.sh.gov.cn)"
title_zh = "上海：工作许可补办（zwdt.sh.gov.cn）"
link = "zwdt.sh.gov.cn"
official = true
"""

SYNONYMS = """
[map]
"工作证" = "工作许可"
"""


def make_kb(
    root: Path, *, entries: str = ENTRIES, topics: str = TOPICS, profile: str = PROFILE, sources: str | None = SOURCES
) -> Path:
    """Write a two-entry knowledge base with its sources registry under *root* (``sources=None``: no
    registry file) and return its directory."""
    directory = root / "kb"
    (directory / "entries").mkdir(parents=True)
    (directory / "profiles").mkdir()
    (directory / "topics.toml").write_text(topics, encoding="utf-8")
    (directory / "entries" / "main.toml").write_text(entries, encoding="utf-8")
    (directory / "profiles" / "default.toml").write_text(profile, encoding="utf-8")
    (directory / "synonyms.toml").write_text(SYNONYMS, encoding="utf-8")
    if sources is not None:
        (directory / "sources.toml").write_text(sources, encoding="utf-8")
    return directory
