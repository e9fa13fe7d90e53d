extension PostgresClient {
    /// Creates database `name` (owned by `owner`, if given) unless it exists. Returns true when it
    /// was created. Names are validated as ``SQLIdentifier`` because identifiers cannot be bound.
    @discardableResult
    public func createDatabaseIfMissing(name: String, owner: String? = nil) async throws -> Bool {
        let database = try SQLIdentifier(name)
        let ownerIdentifier = try owner.map { try SQLIdentifier($0) }
        let exists = try await query("SELECT 1 FROM pg_database WHERE datname = \(name)").count > 0
        if exists { return false }
        do {
            if let ownerIdentifier {
                try await execute("CREATE DATABASE \(identifier: database) OWNER \(identifier: ownerIdentifier)")
            } else {
                try await execute("CREATE DATABASE \(identifier: database)")
            }
            return true
        } catch let error as PostgresError where error.sqlState == "42P04" || error.isUniqueViolation {
            return false  // created concurrently by someone else
        }
    }

    /// Drops database `name` if it exists, terminating its sessions first when `force` is set.
    public func dropDatabaseIfExists(name: String, force: Bool = true) async throws {
        let database = try SQLIdentifier(name)
        if force {
            try await execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
        } else {
            try await execute("DROP DATABASE IF EXISTS \(identifier: database)")
        }
    }

    /// Creates a login role unless it exists; returns true when created. The password is quoted by
    /// the server (`format('%L')`), since utility statements take no bind parameters.
    @discardableResult
    public func createRoleIfMissing(name: String, password: String? = nil) async throws -> Bool {
        let role = try SQLIdentifier(name)
        if try await query("SELECT 1 FROM pg_roles WHERE rolname = \(name)").count > 0 { return false }
        let statement: String
        if let password {
            statement = try await query("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', \(role.name)::text, \(password)::text) AS s")
                .one().decode("s", as: String.self)
        } else {
            statement = "CREATE ROLE \(role.quoted) LOGIN"
        }
        do {
            try await withConnection { try await $0.executeScript(statement) }
            return true
        } catch let error as PostgresError where error.sqlState == "42710" || error.isUniqueViolation {
            return false
        }
    }
}
