import Foundation
import OneSealProto
import WebRules

/// `/items` and `/items/<code>` (办事指南): the public catalogue from intake's `ListItems` and
/// `GetItem` — search by name or code, then an item's guide: legal basis, level, department, time
/// limits, fees, every material with its forms and acceptance standard. No sign-in: the guide is
/// public (RULES.md, 事项清单).
enum CataloguePage {
    static func searchForm(query: String, error: String?) -> String {
        let field = CatalogueSearch.queryField
        let describedBy = "\(field)-hint" + (error == nil ? "" : " \(field)-error")
        return """
        <section class="card" aria-labelledby="items-heading">
        <h2 id="items-heading">办事指南</h2>
        <form method="get" action="/items" novalidate>
        <label for="\(field)">事项名称或编码</label>
        <p class="hint" id="\(field)-hint">例如“食品经营许可”或实施编码，留空列出全部事项</p>
        <input type="text" id="\(field)" name="\(field)" value="\(HTML.escape(query))" maxlength="\(WebLimits.maximumFieldCharacters)" autocomplete="off" aria-describedby="\(describedBy)"\(error == nil ? "" : " aria-invalid=\"true\"")>
        \(error.map { "<p class=\"field-error\" id=\"\(field)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
        <button type="submit">查找事项</button>
        </form>
        </section>
        """
    }

    /// The search page: the form, then the results (or why there are none).
    static func list(layout: Layout, query: String, error: String?, items: [Intake_Item]?, notice: String? = nil) -> String {
        var body = "<h1>办事指南</h1>\n" + searchForm(query: query, error: error)
        if let notice {
            body += "<section class=\"verdict bad\" role=\"alert\" id=\"items-error\"><p>\(HTML.escape(notice))</p></section>"
        } else if let items {
            if items.isEmpty {
                body += "<p id=\"items-none\">没有找到符合条件的事项，请换个名称或编码再试。</p>"
            } else {
                let rows = items.map { item in
                    """
                    <tr><td data-label="事项名称"><a href="/items/\(HTML.escape(item.implementationCode))">\(HTML.escape(item.name))</a></td>\
                    <td data-label="实施编码">\(HTML.escape(item.implementationCode))</td>\
                    <td data-label="行使层级">\(level(item.level))</td>\
                    <td data-label="承诺时限">\(days(item.promisedDays))</td></tr>
                    """
                }.joined(separator: "\n")
                body += """
                <table class="items" id="items-found">
                <caption class="hint">共列出 \(items.count) 项\(items.count >= CatalogueSearch.pageSize ? "（仅列出前\(CatalogueSearch.pageSize)项，请输入更具体的名称）" : "")</caption>
                <thead><tr><th scope="col">事项名称</th><th scope="col">实施编码</th><th scope="col">行使层级</th><th scope="col">承诺时限</th></tr></thead>
                <tbody>
                \(rows)
                </tbody>
                </table>
                """
            }
        }
        return layout.page(title: "办事指南", body: body)
    }

    /// One item's guide.
    static func item(layout: Layout, item: Intake_Item) -> String {
        func fact(_ term: String, _ value: String, id: String? = nil) -> String {
            "<dt>\(term)</dt><dd\(id.map { " id=\"\($0)\"" } ?? "")>\(value)</dd>"
        }
        let department = item.competentDepartment.name.isEmpty ? "—" : HTML.escape(item.competentDepartment.name)
        let fees = item.fees.isEmpty
            ? "不收费"
            : item.fees.map { "\(HTML.escape($0.name))：\(CatalogueSearch.yuan(fen: $0.amountFen))\($0.basis.isEmpty ? "" : "（依据：\(HTML.escape($0.basis))）")" }.joined(separator: "<br>")
        let materials = item.materials.map { material in
            """
            <tr><td data-label="材料名称">\(HTML.escape(material.name))</td>\
            <td data-label="是否必需">\(material.required ? "必需" : "非必需")\(material.deficiencyAllowed ? "（可容缺）" : "")</td>\
            <td data-label="材料形式">\(material.forms.map(form).joined(separator: "、"))，\(max(material.copies, 1))份</td>\
            <td data-label="受理标准">\(material.acceptanceStandard.isEmpty ? "—" : text(material.acceptanceStandard))</td></tr>
            """
        }.joined(separator: "\n")
        let body = """
        <h1>\(HTML.escape(item.name))</h1>
        <section class="card" aria-labelledby="guide-heading">
        <h2 id="guide-heading">基本信息</h2>
        <dl class="facts">
        \(fact("实施编码", HTML.escape(item.implementationCode), id: "item-code"))
        \(fact("基本编码", item.basicCode.isEmpty ? "—" : HTML.escape(item.basicCode)))
        \(fact("事项类型", type(item.type)))
        \(fact("行使层级", level(item.level), id: "item-level"))
        \(fact("实施主体", department))
        \(fact("法定时限", days(item.statutoryDays)))
        \(fact("承诺时限", days(item.promisedDays), id: "item-promised"))
        \(fact("收费", fees, id: "item-fees"))
        \(fact("到现场次数", item.maxVisits > 0 ? "最多\(item.maxVisits)次" : "—"))
        \(fact("告知承诺", item.commitmentAllowed ? "可以" : "不适用"))
        \(fact("容缺受理", item.deficiencyAllowed ? "可以" : "不适用"))
        \(fact("办理结果", item.resultName.isEmpty ? (item.licenceName.isEmpty ? "—" : HTML.escape(item.licenceName)) : HTML.escape(item.resultName)))
        </dl>
        </section>
        <section class="card" aria-labelledby="basis-heading">
        <h2 id="basis-heading">设定依据</h2>
        <p id="item-basis">\(item.legalBasis.isEmpty ? "—" : text(item.legalBasis))</p>
        \(item.acceptanceConditions.isEmpty ? "" : "<h2>受理条件</h2><p>\(text(item.acceptanceConditions))</p>")
        </section>
        <section class="card" aria-labelledby="materials-heading">
        <h2 id="materials-heading">申请材料</h2>
        \(item.materials.isEmpty ? "<p>无需提交材料。</p>" : """
        <table class="items" id="item-materials">
        <thead><tr><th scope="col">材料名称</th><th scope="col">是否必需</th><th scope="col">材料形式</th><th scope="col">受理标准</th></tr></thead>
        <tbody>
        \(materials)
        </tbody>
        </table>
        """)
        </section>
        <p><a class="button" id="apply-online" href="/apply/\(HTML.escape(item.implementationCode))">网上申报</a>（需登录）</p>
        <p><a href="/items">返回办事指南</a></p>
        """
        return layout.page(title: item.name, body: body)
    }

    /// Free text from the catalogue: escaped, line breaks kept.
    static func text(_ value: String) -> String {
        HTML.escape(value).replacingOccurrences(of: "\n", with: "<br>")
    }

    static func days(_ value: Int32) -> String { value > 0 ? "\(value)个工作日" : "—" }

    static func level(_ level: Common_AdministrativeLevel) -> String {
        switch level {
        case .province: "省级"
        case .city: "市级"
        case .county: "县级（区）"
        case .township: "乡镇（街道）"
        default: "—"
        }
    }

    static func type(_ type: Intake_ItemType) -> String {
        switch type {
        case .licensing: "行政许可"
        case .confirmation: "行政确认"
        case .payment: "行政给付"
        case .award: "行政奖励"
        case .ruling: "行政裁决"
        case .otherPower: "其他行政权力"
        case .publicService: "公共服务"
        case .filing: "备案"
        default: "—"
        }
    }

    static func form(_ form: Intake_MaterialForm) -> String {
        switch form {
        case .original: "原件"
        case .copy: "复印件"
        case .electronic: "电子件"
        default: "—"
        }
    }
}
