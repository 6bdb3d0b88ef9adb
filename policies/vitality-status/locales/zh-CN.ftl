# rules.rhai 各条说明（`reason("id", …)`）的简体中文文本，以及会员看到的计划名称和等级名称。
# 引擎自身的说明（保费加费的下限和上限、会员页面标签）取自引擎的中文目录，除非此处以相同 id 另行给出。
#
# $year 为计划年度（如 2026）。各项积分中，$points 为按年度上限计算后的积分，$before_cap 为不设上限时的积分，
# $capped 表示是否触及上限。$share 已由脚本取整（保留一位小数，仅在接近空腹积分表分档处保留更多位），按原样写出。
# $status 为脚本给出的等级（bronze、silver、gold、platinum），在此写作中文等级名称。
# $amount 为奖励金额（MONEY 按计划币种写出），$earns 表示是否有奖励。续保各条中的 $points 为保费加费的百分点。

policy-name = 血糖活力等级计划

tier-bronze = 铜级
tier-silver = 银级
tier-gold = 金级
tier-platinum = 白金级

measuring-days = { $year } 年您共有 { $days } 天测量血糖（每天 { $per_day } 积分）：获得 { $points } 积分{ $capped ->
        [true] ，已达本项每年上限（封顶前为 { $before_cap } 积分）
       *[false] { "" }
    }

measuring-readings = 计入 { $counted } 次测量（间隔不足一小时的测量只计一次，每次 { $per_reading } 积分）：获得 { $points } 积分{ $capped ->
        [true] ，已达本项每年上限（封顶前为 { $before_cap } 积分）
       *[false] { "" }
    }

fasting-too-few = 空腹血糖测量 { $readings } 次；至少需要 { $needed } 次才能获得空腹血糖控制积分

fasting-share = { $readings } 次空腹血糖测量中，{ $share }% 在 4.4～7.0 mmol/L 范围内：获得 { $points } 积分

hba1c-none = { $year } 年没有糖化血红蛋白（HbA1c）检测结果：检测和结果均不计积分

hba1c-in-target = 您 { $year } 年最近一次糖化血红蛋白（HbA1c）为 { $latest }%，低于 { $target }%：完成检测获得 { $check_points } 积分，结果达标再获得 { $result_points } 积分

hba1c-not-in-target = 您 { $year } 年最近一次糖化血红蛋白（HbA1c）为 { $latest }%，未低于 { $target }%：完成检测获得 { $check_points } 积分

status-points = { $year } 年获得 { $earned } 积分，另从上一年结转 { $carried } 积分（上一年 { $last_year } 积分的 { $carry_percent }%）：合计 { $total } 积分，等级为{ $status ->
        [bronze] 铜级
        [silver] 银级
        [gold] 金级
        [platinum] 白金级
       *[other] { $status }
    }

renewal-loading-up = { $status ->
        [bronze] 铜级
        [silver] 银级
        [gold] 金级
        [platinum] 白金级
       *[other] { $status }
    }会员续保时，保费加费提高 { $points } 个百分点{ $earns ->
        [true] ，并可获得 { MONEY($amount) } 奖励
       *[false] { "" }
    }

renewal-loading-down = { $status ->
        [bronze] 铜级
        [silver] 银级
        [gold] 金级
        [platinum] 白金级
       *[other] { $status }
    }会员续保时，保费加费降低 { $points } 个百分点{ $earns ->
        [true] ，并可获得 { MONEY($amount) } 奖励
       *[false] { "" }
    }

renewal-loading-unchanged = { $status ->
        [bronze] 铜级
        [silver] 银级
        [gold] 金级
        [platinum] 白金级
       *[other] { $status }
    }会员续保时，保费加费保持不变{ $earns ->
        [true] ，并可获得 { MONEY($amount) } 奖励
       *[false] { "" }
    }
