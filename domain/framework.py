"""Qualifications frameworks: levels 1..N and the credit definition (notional hours per credit).

Presets are reference data, not events: which one is active is a setting. Names and descriptors are
given in Chinese and English because the bank serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from domain.assessment import Calendar
from domain.errors import InvalidInput
from domain.values import CREDIT_QUANTUM, parse_level


@dataclass(frozen=True, kw_only=True)
class FrameworkLevel:
    level: int
    name_en: str
    name_zh: str
    descriptor_en: str
    descriptor_zh: str


@dataclass(frozen=True, kw_only=True)
class Framework:
    key: str
    name_en: str
    name_zh: str
    # Notional learning hours one credit stands for. ECTS states a range (25-30 h); converting
    # hours to credits uses the upper bound so credits are never overstated.
    hours_per_credit: Decimal
    hours_per_credit_min: Decimal
    credits_per_year: Decimal
    levels: tuple[FrameworkLevel, ...]
    # The academic calendar yearly and semester caps count in (a setting may override it).
    calendar: Calendar

    @property
    def max_level(self) -> int:
        return len(self.levels)

    def check_level(self, level: object, field: str = "level") -> int:
        return parse_level(level, self.max_level, field)

    def get_level(self, level: int) -> FrameworkLevel:
        return self.levels[self.check_level(level) - 1]

    def credits_for_hours(self, hours: Decimal) -> Decimal:
        return (hours / self.hours_per_credit).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)


EQF = Framework(
    key="eqf",
    name_en="European Qualifications Framework (EQF) with ECTS credits",
    name_zh="欧洲资历框架（EQF）与欧洲学分转换系统（ECTS）",
    hours_per_credit=Decimal("30"),
    hours_per_credit_min=Decimal("25"),
    credits_per_year=Decimal("60"),
    # European academic years start in September, the second semester in February.
    calendar=Calendar(term_starts=(9, 2)),
    levels=(
        FrameworkLevel(
            level=1,
            name_en="EQF level 1",
            name_zh="欧洲资历框架第1级",
            descriptor_en=(
                "Basic general knowledge; basic skills for simple tasks; work or study under "
                "direct supervision in a structured context."
            ),
            descriptor_zh="基础通识知识；完成简单任务的基本技能；在结构化环境中于直接指导下工作或学习。",
        ),
        FrameworkLevel(
            level=2,
            name_en="EQF level 2",
            name_zh="欧洲资历框架第2级",
            descriptor_en=(
                "Basic factual knowledge of a field; basic cognitive and practical skills to use "
                "relevant information; work or study under supervision with some autonomy."
            ),
            descriptor_zh="某一领域的基础事实性知识；运用相关信息的基本认知与实践技能；在指导下有一定自主性。",
        ),
        FrameworkLevel(
            level=3,
            name_en="EQF level 3",
            name_zh="欧洲资历框架第3级",
            descriptor_en=(
                "Knowledge of facts, principles, processes and general concepts in a field; a "
                "range of skills to accomplish tasks; take responsibility for completing tasks."
            ),
            descriptor_zh="某一领域的事实、原理、流程与一般概念知识；完成任务的多种技能；对完成任务负责。",
        ),
        FrameworkLevel(
            level=4,
            name_en="EQF level 4",
            name_zh="欧洲资历框架第4级",
            descriptor_en=(
                "Factual and theoretical knowledge in broad contexts; skills to generate solutions "
                "to specific problems; self-management within guidelines."
            ),
            descriptor_zh="广泛情境中的事实性与理论性知识；解决具体问题的技能；在指引范围内自我管理。",
        ),
        FrameworkLevel(
            level=5,
            name_en="EQF level 5 (short-cycle tertiary)",
            name_zh="欧洲资历框架第5级（短期高等教育）",
            descriptor_en=(
                "Comprehensive, specialised knowledge and awareness of its limits; creative "
                "solutions to abstract problems; manage and supervise where change is "
                "unpredictable."
            ),
            descriptor_zh="全面而专门的知识并了解其边界；创造性地解决抽象问题；在不可预测的变化中管理与监督。",
        ),
        FrameworkLevel(
            level=6,
            name_en="EQF level 6 (bachelor)",
            name_zh="欧洲资历框架第6级（学士）",
            descriptor_en=(
                "Advanced knowledge with critical understanding of theories and principles; "
                "advanced skills showing mastery; manage complex technical or professional "
                "projects."
            ),
            descriptor_zh="对理论与原理有批判性理解的高级知识；体现精通的高级技能；管理复杂的技术或专业项目。",
        ),
        FrameworkLevel(
            level=7,
            name_en="EQF level 7 (master)",
            name_zh="欧洲资历框架第7级（硕士）",
            descriptor_en=(
                "Highly specialised knowledge, some at the forefront, as the basis for original "
                "thinking; specialised problem-solving skills; manage and transform complex "
                "contexts."
            ),
            descriptor_zh="高度专门化、部分处于前沿的知识，作为原创思维的基础；专门的问题解决技能；"
            "管理并改造复杂情境。",
        ),
        FrameworkLevel(
            level=8,
            name_en="EQF level 8 (doctorate)",
            name_zh="欧洲资历框架第8级（博士）",
            descriptor_en=(
                "Knowledge at the most advanced frontier of a field; the most advanced and "
                "specialised skills for research and innovation; substantial authority and "
                "professional integrity."
            ),
            descriptor_zh="某一领域最前沿的知识；用于研究与创新的最高级、最专门的技能；具有相当的权威与职业操守。",
        ),
    ),
)

# A seven-level lifelong-education framework modelled on the Guangdong Lifelong Education
# Qualifications Framework (广东终身教育资历框架, DB44/T 2141-2018): levels 4-7 align with
# associate, bachelor, master and doctorate; one credit is ten notional learning hours.
CHINA_LIFELONG = Framework(
    key="cn",
    name_en="Lifelong Education Qualifications Framework (China, 7 levels)",
    name_zh="终身教育资历框架（七级）",
    hours_per_credit=Decimal("10"),
    hours_per_credit_min=Decimal("10"),
    credits_per_year=Decimal("60"),
    # 秋季学期 from September, 春季学期 from March.
    calendar=Calendar(term_starts=(9, 3)),
    levels=(
        FrameworkLevel(
            level=1,
            name_en="Level 1 (entry)",
            name_zh="第一级（入门）",
            descriptor_en="Basic knowledge and skills for routine tasks under direct guidance.",
            descriptor_zh="在直接指导下完成常规任务所需的基础知识与技能。",
        ),
        FrameworkLevel(
            level=2,
            name_en="Level 2 (elementary vocational)",
            name_zh="第二级（初级职业技能）",
            descriptor_en=(
                "Basic occupational knowledge and skills; limited autonomy on familiar tasks."
            ),
            descriptor_zh="基本的职业知识与技能；在熟悉的任务中具有有限自主性。",
        ),
        FrameworkLevel(
            level=3,
            name_en="Level 3 (secondary / intermediate vocational)",
            name_zh="第三级（中职／中级职业技能）",
            descriptor_en=(
                "Broad knowledge and practical skills of an occupation; responsible for own work."
            ),
            descriptor_zh="某一职业较广的知识与实践技能；对自身工作负责。",
        ),
        FrameworkLevel(
            level=4,
            name_en="Level 4 (associate / higher vocational)",
            name_zh="第四级（专科／高职）",
            descriptor_en="Specialised knowledge and technical skills; solve non-routine problems; "
            "supervise others' routine work.",
            descriptor_zh="专门知识与技术技能；解决非常规问题；指导他人的常规工作。",
        ),
        FrameworkLevel(
            level=5,
            name_en="Level 5 (bachelor)",
            name_zh="第五级（本科）",
            descriptor_en=(
                "Systematic theoretical knowledge of a discipline; analyse and solve complex "
                "problems; manage projects."
            ),
            descriptor_zh="系统的学科理论知识；分析并解决复杂问题；管理项目。",
        ),
        FrameworkLevel(
            level=6,
            name_en="Level 6 (master)",
            name_zh="第六级（硕士）",
            descriptor_en=(
                "Deep, specialised knowledge; research and innovation in a field; lead teams."
            ),
            descriptor_zh="深入而专门的知识；在某一领域开展研究与创新；领导团队。",
        ),
        FrameworkLevel(
            level=7,
            name_en="Level 7 (doctorate)",
            name_zh="第七级（博士）",
            descriptor_en=(
                "Frontier knowledge; original research; leadership in a discipline or profession."
            ),
            descriptor_zh="前沿知识；原创性研究；在学科或行业中发挥引领作用。",
        ),
    ),
)

PRESETS: dict[str, Framework] = {f.key: f for f in (EQF, CHINA_LIFELONG)}


def preset(key: str) -> Framework:
    try:
        return PRESETS[key]
    except KeyError:
        raise InvalidInput(
            f"unknown framework {key!r}; presets: {', '.join(sorted(PRESETS))}"
        ) from None
