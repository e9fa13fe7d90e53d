import OneSealCore

extension CatalogueItem {
    /// Every problem of the item at once, each naming its field (`materials[2].name: required`),
    /// so a catalogue administrator fixes a file in one pass. `prefix` is prepended to each path
    /// ("items[3]" when the item comes from a catalogue file). Empty means publishable.
    public func validate(prefix: String = "") -> [FieldViolation] {
        var out: [FieldViolation] = []
        func field(_ name: String) -> String { joinPath(prefix, name) }
        func require(_ value: String, _ name: String) {
            if value.isBlank { out.append(.required(field(name))) }
        }
        func bad(_ name: String, _ description: String, _ reason: String) {
            out.append(FieldViolation(field: field(name), description: description, reason: reason))
        }

        require(basicCode, "basic_code")
        if implementationCode.isBlank {
            out.append(.required(field("implementation_code")))
        } else if !CatalogueItem.isCode(implementationCode) {
            bad("implementation_code", "“\(implementationCode)” must be 1–64 characters of A–Z, a–z, 0–9 and “-”", "code.format")
        }
        require(name, "name")
        require(legalBasis, "legal_basis")
        if type == nil { out.append(.required(field("type"))) }
        if level == nil { out.append(.required(field("level"))) }
        if tier == nil { out.append(.required(field("tier"))) }
        require(competentDepartment.code, "competent_department.code")
        require(competentDepartment.name, "competent_department.name")
        if !competentDepartment.node.isEmpty, !NodeRef.isDivisionCode(competentDepartment.node) {
            bad("competent_department.node", "“\(competentDepartment.node)” is not a six-digit division code", "division_code.format")
        }
        if implementingNode.divisionCode.isEmpty {
            out.append(.required(field("implementing_node.division_code")))
        } else if !NodeRef.isDivisionCode(implementingNode.divisionCode) {
            bad("implementing_node.division_code", "“\(implementingNode.divisionCode)” is not a six-digit division code", "division_code.format")
        }
        if let nodeLevel = implementingNode.level, let level, nodeLevel != level {
            bad("implementing_node.level", "the implementing node is \(nodeLevel.rawValue) level but the item is exercised at \(level.rawValue) level", "level.mismatch")
        }

        if !(1...365).contains(statutoryDays) {
            bad("statutory_days", "must be 1–365 working days, was \(statutoryDays)", "out_of_range")
        }
        if promisedDays < 1 {
            bad("promised_days", "must be at least 1 working day, was \(promisedDays)", "out_of_range")
        } else if promisedDays > statutoryDays, statutoryDays >= 1 {
            bad("promised_days", "the promised limit (\(promisedDays)) may not exceed the statutory limit (\(statutoryDays))", "promised.exceeds_statutory")
        }

        if materials.isEmpty { bad("materials", "an item lists at least one material", "required") }
        var seenCodes: [String: Int] = [:]
        for (index, material) in materials.enumerated() {
            out += material.validate(prefix: field(indexPath("materials", index)), itemAllowsDeficiency: deficiencyAllowed)
            if !material.code.isBlank {
                if let first = seenCodes[material.code] {
                    bad(indexPath("materials", index) + ".code", "“\(material.code)” is already used by materials[\(first)]", "duplicate")
                } else {
                    seenCodes[material.code] = index
                }
            }
        }
        if deficiencyAllowed, !materials.contains(where: \.deficiencyAllowed) {
            bad("deficiency_allowed", "容缺受理 is allowed but no material is marked deficiency_allowed", "deficiency.no_material")
        }
        if instantApprovalAllowed, instantRuleSet.isBlank {
            bad("instant_rule_set", "required when instant_approval_allowed is true", "required")
        }
        if !licenceTypeCode.isEmpty {
            if !CatalogueItem.isLicenceTypeCode(licenceTypeCode) {
                bad("licence_type_code", "“\(licenceTypeCode)” must be an 18-character agency code followed by 3 digits", "licence_type_code.format")
            }
            require(licenceName, "licence_name")
        }
        if let days = renewalDaysBeforeExpiry, !(1...366).contains(days) {
            bad("renewal_days_before_expiry", "must be 0 (Art. 50's 30 days) to 366, was \(days)", "out_of_range")
        }
        for (index, matter) in (changeReviewMatters ?? []).enumerated() where !LicenceChangeRequest.matters.contains(matter) {
            bad("change_review_matters[\(index)]", "“\(matter)” is not one of \(LicenceChangeRequest.matters.joined(separator: ", "))", "change_review_matters.unknown")
        }
        if !(0...1200).contains(licenceValidityMonths) {
            bad("licence_validity_months", "must be 0 (long-term) to 1200, was \(licenceValidityMonths)", "out_of_range")
        }
        require(resultName, "result_name")
        var seenProcedures = Set<SpecialProcedure>()
        for (index, procedure) in specialProcedures.enumerated() where !seenProcedures.insert(procedure).inserted {
            bad(indexPath("special_procedures", index), "“\(procedure.rawValue)” is listed twice", "duplicate")
        }
        for (index, fee) in fees.enumerated() {
            let feePath = indexPath("fees", index)
            require(fee.name, feePath + ".name")
            if fee.amountFen < 0 {
                bad(feePath + ".amount_fen", "may not be negative, was \(fee.amountFen)", "out_of_range")
            } else if fee.amountFen > 0 {
                require(fee.basis, feePath + ".basis")
            }
        }
        if !(0...10).contains(maxVisits) {
            bad("max_visits", "must be 0–10, was \(maxVisits)", "out_of_range")
        }
        return out
    }

    /// Implementation and material codes: ASCII letters, digits and “-”, 1–64 long, so they are
    /// safe in file names, URLs and case numbers.
    public static func isCode(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45
        }
    }

    /// A licence type code is the defining agency's USCC (shape only: pilot codes with a wrong check
    /// character are real) followed by a three-digit number.
    public static func isLicenceTypeCode(_ text: String) -> Bool {
        let characters = Array(text.uppercased())
        guard characters.count == 21 else { return false }
        return characters[0..<18].allSatisfy { UnifiedSocialCreditCode.alphabet.contains($0) }
            && characters[18...].allSatisfy { $0.isASCII && $0.isNumber }
    }
}

extension Material {
    /// The material's own problems; `itemAllowsDeficiency` because a non-core flag means nothing on
    /// an item that never allows 容缺受理.
    func validate(prefix: String, itemAllowsDeficiency: Bool) -> [FieldViolation] {
        var out: [FieldViolation] = []
        func bad(_ name: String, _ description: String, _ reason: String) {
            out.append(FieldViolation(field: joinPath(prefix, name), description: description, reason: reason))
        }
        if code.isBlank {
            out.append(.required(joinPath(prefix, "code")))
        } else if !CatalogueItem.isCode(code) {
            bad("code", "“\(code)” must be 1–64 characters of A–Z, a–z, 0–9 and “-”", "code.format")
        }
        if name.isBlank { out.append(.required(joinPath(prefix, "name"))) }
        if forms.isEmpty {
            bad("forms", "at least one accepted form (original, copy, electronic)", "required")
        } else if Set(forms).count != forms.count {
            bad("forms", "a form is listed twice", "duplicate")
        }
        if copies < 0 || copies > 20 {
            bad("copies", "must be 0–20, was \(copies)", "out_of_range")
        } else if forms.contains(where: \.isPaper), copies == 0 {
            bad("copies", "a paper form is accepted, so at least 1 copy is needed", "copies.paper_needs_copies")
        } else if !forms.isEmpty, !forms.contains(where: \.isPaper), copies != 0 {
            bad("copies", "only the electronic form is accepted, so copies must be 0", "copies.electronic_only")
        }
        if source == nil { out.append(.required(joinPath(prefix, "source"))) }
        if source == .government || source == .intermediary, sourceDescription.isBlank {
            bad("source_description", "required when the source is \(source!.rawValue): say who issues it", "required")
        }
        if !licenceTypeCode.isEmpty, !CatalogueItem.isLicenceTypeCode(licenceTypeCode) {
            bad("licence_type_code", "“\(licenceTypeCode)” must be an 18-character agency code followed by 3 digits", "licence_type_code.format")
        }
        if deficiencyAllowed {
            if !required {
                bad("deficiency_allowed", "an optional material can simply be left out; 容缺 applies to required non-core materials", "deficiency.optional_material")
            } else if !itemAllowsDeficiency {
                bad("deficiency_allowed", "the item does not allow 容缺受理 (deficiency_allowed is false on the item)", "deficiency.item_disallows")
            }
        }
        return out
    }
}
