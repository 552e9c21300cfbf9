"""Static vocabulary of the synthetic city: districts, entity mix, names, streets.

Everything here is reference data that does not depend on the population size; the weights
are tuned so that a generated city looks like the reference one (Qingdao, 2017).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

# The data are "as of" a fixed day, never the wall clock: a seed always yields the same rows.
AS_OF = date(2026, 10, 31)
FIRST_YEAR = 1995


class District(NamedTuple):
    code: str
    name: str  # as written in addresses and names
    abbr: str  # one character, as used in document numbers (青南市监罚字…)
    weight: float  # share of the city's entities
    lon: float
    lat: float
    spread: float  # degrees; urban districts are compact
    streets: tuple[str, ...]
    towns: tuple[str, ...]  # towns and sub-districts with villages (cooperatives live there)


def _district(
    code: str,
    name: str,
    abbr: str,
    weight: float,
    lon: float,
    lat: float,
    spread: float,
    streets: str,
    towns: str,
) -> District:
    return District(
        code, name, abbr, weight, lon, lat, spread, tuple(streets.split()), tuple(towns.split())
    )


# fmt: off
DISTRICTS: tuple[District, ...] = (
    _district("370202", "市南区", "南", 8, 120.392, 36.068, 0.012,
              "香港中路 东海西路 中山路 南京路 闽江路 燕儿岛路 宁夏路 延安三路",
              "八大湖街道 湛山街道"),
    _district("370203", "市北区", "北", 11, 120.374, 36.097, 0.015,
              "辽宁路 台东一路 延吉路 敦化路 哈尔滨路 重庆南路 威海路 登州路",
              "浮山新区街道 水清沟街道"),
    _district("370211", "黄岛区", "黄", 20, 120.190, 36.030, 0.045,
              "长江中路 江山中路 太行山路 武夷山路 井冈山路 峨眉山路 珠江路 香江路",
              "藏南镇 宝山镇 六汪镇 海青镇 大村镇"),
    _district("370212", "崂山区", "崂", 6, 120.468, 36.110, 0.020,
              "深圳路 松岭路 海尔路 株洲路 仙霞岭路 香港东路 同安路 秦岭路",
              "王哥庄街道 北宅街道 沙子口街道"),
    _district("370213", "李沧区", "李", 7, 120.432, 36.148, 0.015,
              "京口路 九水东路 黑龙江中路 书院路 永平路 四流中路 金水路 夏庄路",
              "九水街道 湘潭路街道"),
    _district("370214", "城阳区", "城", 12, 120.396, 36.307, 0.030,
              "正阳路 长城路 春阳路 文阳路 崇阳路 华城路 兴阳路 流亭路",
              "夏庄街道 惜福镇街道 棘洪滩街道 上马街道"),
    _district("370215", "即墨区", "即", 11, 120.447, 36.390, 0.040,
              "鹤山路 蓝鳌路 烟青路 振华街 嵩山二路 通济街 天山三路 龙山街",
              "移风店镇 田横镇 大信镇 段泊岚镇 金口镇"),
    _district("370281", "胶州市", "胶", 10, 120.040, 36.280, 0.035,
              "扬州路 兰州东路 福州南路 常州路 郑州东路 广州北路 北京东路 胶州东路",
              "李哥庄镇 胶莱街道 里岔镇 铺集镇"),
    _district("370283", "平度市", "平", 9, 120.060, 36.760, 0.050,
              "红旗路 人民路 常州路 胜利路 扬州路 杭州路 北京路 青岛路",
              "大泽山镇 明村镇 南村镇 蓼兰镇 崔家集镇 仁兆镇"),
    _district("370285", "莱西市", "莱", 6, 120.520, 36.860, 0.030,
              "烟台路 威海路 上海路 石岛路 青岛路 黄海路 重庆路 长春路",
              "院上镇 店埠镇 姜山镇 日庄镇 南墅镇"),
)
# fmt: on
# Bounds the locations stay within (the city's extent as the demo map shows it).
LON_RANGE = (120.0, 120.7)
LAT_RANGE = (36.0, 36.9)

# Cooperatives are rural: they follow their own district weights.
COOP_DISTRICT_WEIGHTS = (0.2, 0.3, 12, 1, 0.5, 2, 20, 15, 30, 20)

# Entity kinds in domain.vocabulary.EntityKind order, with the share of the population as an
# exact fraction: at 1,081,742 entities the reference city's counts come out exactly.
REFERENCE_ENTITIES = 1_081_742
KIND_SHARES: tuple[tuple[int, int], ...] = (
    (31, 100),  # ENTERPRISE
    (0, 1),  # INDIVIDUAL_BUSINESS: the rest
    (23, 1000),  # FARMERS_COOPERATIVE
    (3310, REFERENCE_ENTITIES),  # PUBLIC_INSTITUTION
    (7332, REFERENCE_ENTITIES),  # SOCIAL_ORGANIZATION
    (585, REFERENCE_ENTITIES),  # JUDICIAL_SERVICE
)
# USCC: registration authority + entity type (GB 32100) and the body prefix of codes issued
# after the 2015 reform (MA market regulation, MB organization departments, MJ civil affairs …).
KIND_PREFIX = ("91", "92", "93", "12", "51", "31")
KIND_NEW_BODY = ("MA", "MA", "MA", "MB", "MJ", "MD")
NEW_CODES_FROM = date(2015, 10, 1)

# Industry sections (domain.vocabulary.INDUSTRIES) and their mix by kind.
SECTIONS = "CEFGHLPQR"
INDUSTRY_WEIGHTS: tuple[tuple[float, ...], ...] = (
    #  C     E     F     G     H     L     P     Q     R
    (0.16, 0.08, 0.30, 0.07, 0.05, 0.25, 0.03, 0.01, 0.05),  # enterprise (private hospitals)
    (0.03, 0.01, 0.51, 0.08, 0.24, 0.06, 0.01, 0.01, 0.05),  # individual business (clinics)
    (0.25, 0.00, 0.55, 0.05, 0.10, 0.05, 0.00, 0.00, 0.00),  # cooperative
    (0.00, 0.05, 0.00, 0.05, 0.05, 0.10, 0.40, 0.20, 0.15),  # public institution (hospitals)
    (0.00, 0.00, 0.00, 0.00, 0.00, 0.45, 0.35, 0.05, 0.15),  # social organization
    (0.00, 0.00, 0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 0.00),  # judicial service (law firms …)
)

# Registrations per year grew about 9% a year; 2026 counts up to AS_OF.
YEAR_WEIGHTS = tuple(
    1.09 ** (y - FIRST_YEAR) * ((AS_OF.timetuple().tm_yday / 365) if y == AS_OF.year else 1)
    for y in range(FIRST_YEAR, AS_OF.year + 1)
)
# Entity status (EntityStatus order: ACTIVE, SUSPENDED, REVOKED, DEREGISTERED) of entities older
# than a year (younger ones are all active), so that the city has about 2% / 2% / 5%.
STATUS_WEIGHTS = (0.9016, 0.0219, 0.0219, 0.0546)

SURNAMES = "王张李刘陈杨孙赵于徐高姜宋周吴郭马林董韩胡朱曲孟何邢毛袁冯潘丁贾崔曹薛薄隋纪栾"
SURNAME_WEIGHTS = tuple(max(1.0, 30 - i) for i in range(len(SURNAMES)))
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华红玉建国志海文辉鹏浩宇欣怡晨婷雪琳斌峰"
    "春梅兰凤玲燕波亮龙飞鑫宁坤晓东成庆立新萍颖慧健云鹤翔凯"
)
TRADE = (
    "鑫华金瑞恒宏利东润佳嘉永鼎德汇百盛青蓝海泰中万新众聚福长安和天弘凯"
    "启铭博翔晨银远琴崂诚信源丰达通兴隆昌顺"
)

# Words that follow the trade name in enterprise names, by section.
ENTERPRISE_WORDS: dict[str, tuple[str, ...]] = {
    "C": (
        "机械制造",
        "食品",
        "化工",
        "电子科技",
        "纺织服装",
        "橡胶制品",
        "塑料制品",
        "金属制品",
        "家具制造",
        "海洋生物科技",
        "精细化工",
        "包装制品",
    ),
    "E": (
        "建筑工程",
        "建筑安装工程",
        "装饰工程",
        "市政工程",
        "路桥工程",
        "钢结构工程",
        "水电安装工程",
    ),
    "F": (
        "商贸",
        "贸易",
        "超市",
        "医药连锁",
        "国际贸易",
        "食品销售",
        "建材",
        "五金交电",
        "汽车销售服务",
        "水产品",
        "石油销售",
    ),
    "G": ("物流", "国际物流", "运输", "仓储", "货运代理", "冷链物流", "快递服务", "港口服务"),
    "H": ("餐饮管理", "酒店管理", "大酒店", "海鲜酒家", "餐饮服务", "宾馆", "快餐"),
    "L": (
        "商务咨询",
        "企业管理咨询",
        "广告",
        "人力资源服务",
        "房产经纪",
        "设备租赁",
        "会展服务",
        "国际旅行社",
    ),
    "P": ("教育咨询", "职业培训学校", "艺术培训", "文化培训", "教育科技"),
    "Q": ("医院", "口腔医院", "眼科医院", "中医门诊部", "综合门诊部", "健康体检中心", "康复医院"),
    "R": ("文化传媒", "网络会所", "娱乐", "体育发展", "影视", "文化艺术", "健身"),
}
ENTERPRISE_SUFFIX = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
ENTERPRISE_SUFFIX_WEIGHTS = (85, 10, 4, 1)

# Shop words of individual businesses, by section.
INDIVIDUAL_WORDS: dict[str, tuple[str, ...]] = {
    "C": ("加工坊", "豆腐坊", "面食加工坊", "服装加工部", "木器加工厂"),
    "E": ("装修队", "水电维修部", "建材装饰部"),
    "F": (
        "便利店",
        "超市",
        "水果店",
        "五金店",
        "副食品店",
        "烟酒店",
        "服装店",
        "日用百货店",
        "蔬菜店",
        "海鲜店",
        "粮油店",
    ),
    "G": ("货运部", "快递代办点", "物流信息部", "搬家服务部"),
    "H": ("饭店", "烧烤店", "小吃部", "面馆", "饺子馆", "快餐店", "家常菜馆", "海鲜大排档", "旅馆"),
    "L": ("打字复印部", "家政服务部", "信息咨询服务部", "广告部"),
    "P": ("托管班", "书法培训部", "辅导中心"),
    "Q": ("诊所", "中医诊所", "口腔诊所", "西医内科诊所", "卫生室"),
    "R": ("网吧", "棋牌室", "KTV", "台球厅", "健身房"),
}
COOP_PRODUCE = (
    "葡萄种植",
    "蔬菜种植",
    "果品",
    "花生种植",
    "生猪养殖",
    "肉鸡养殖",
    "茶叶",
    "农机服务",
    "土地股份",
    "蓝莓种植",
    "食用菌",
    "大姜种植",
)
VILLAGE_SUFFIX = ("家庄", "家村", "家屯", "家埠", "戈庄", "家疃")
PUBLIC_WORDS: dict[str, tuple[str, ...]] = {
    "P": ("实验小学", "中学", "幼儿园", "职业教育中心"),
    "R": ("文化馆", "图书馆", "体育中心", "档案馆"),
    "L": ("公共资源交易中心", "社会福利中心"),
    "Q": ("人民医院", "中医医院", "妇幼保健院", "疾病预防控制中心", "社区卫生服务中心", "卫生院"),
    "H": ("机关服务中心",),
    "E": ("建设工程质量安全监督站",),
    "G": ("公路事业发展中心",),
}
SOCIAL_WORDS: dict[str, tuple[str, ...]] = {
    "L": (
        "餐饮行业协会",
        "物流协会",
        "软件行业协会",
        "个体劳动者协会",
        "社会工作服务中心",
        "养老服务中心",
        "潍坊商会",
        "烟台商会",
        "温州商会",
        "福建商会",
    ),
    "P": ("培训学校", "职业技能培训学校", "艺术培训学校"),
    "Q": ("仁爱医院", "康复医院", "护理院", "慈善医院"),
    "R": ("摄影家协会", "篮球协会", "书法家协会", "马拉松协会"),
}
CHINESE_NUMERALS = (
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
    "十五",
    "十六",
    "十七",
    "十八",
    "十九",
    "二十",
)
