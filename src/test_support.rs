//! Helpers for the tests (unit and integration); not part of the product's API.

/// A fresh PostgreSQL database for one test, dropped at the end. The server comes from
/// `DOSSIER_TEST_POSTGRES` (an URL whose role may create databases), which
/// `scripts/test.sh` sets after starting Debian's PostgreSQL on loopback.
pub struct PostgresTestDb {
    admin: String,
    name: String,
    pub url: String,
}

impl PostgresTestDb {
    pub fn create(test: &str) -> PostgresTestDb {
        let admin = std::env::var("DOSSIER_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "DOSSIER_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which \
                 starts PostgreSQL (scripts/postgres.sh start prints the URL)"
            )
        });
        let name = format!("dossier_{test}_{}", std::process::id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at DOSSIER_TEST_POSTGRES: {e}"));
        // One statement each: CREATE DATABASE cannot run inside a transaction block.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            client
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        }
        let (base, _) = admin
            .rsplit_once('/')
            .expect("DOSSIER_TEST_POSTGRES is postgres://…/DATABASE");
        PostgresTestDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }
}

impl Drop for PostgresTestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
