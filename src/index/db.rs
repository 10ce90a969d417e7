//! One small SQL interface over the two backends: SQLite (embedded, the default) and
//! PostgreSQL (shared by many workers). The index writes its SQL once, with `?1`-style
//! placeholders and the subset both dialects share; the few statements that differ (full-text
//! search, schema types) are chosen by [`Backend`].

use std::collections::HashMap;

use postgres::types::{IsNull, ToSql, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("column {column}: expected {expected}, found {found}")]
    Type {
        column: usize,
        expected: &'static str,
        found: &'static str,
    },
}

/// PostgreSQL's own message (with its detail) rather than the driver's "db error".
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => {
            // The driver's text, then whatever its causes add to it.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                source = s.source();
            }
            text
        }
    }
}

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(v as i64)
            }
        }
    )*};
}
from_int!(i64, i32, u32, u64, usize);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Real(v as f64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
impl<T: Clone + Into<Value>> From<&Option<T>> for Value {
    fn from(v: &Option<T>) -> Value {
        v.clone().map_or(Value::Null, Into::into)
    }
}

/// Parameters: `vals![a, b]` is `[Value::from(a), Value::from(b)]`.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { [$($crate::index::db::Value::from($v)),*] };
}
pub(crate) use vals;

/// A value read back as a Rust type.
pub trait FromValue: Sized {
    const NAME: &'static str;
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    const NAME: &'static str = "integer";
    fn from_value(v: &Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for u64 {
    const NAME: &'static str = "integer";
    fn from_value(v: &Value) -> Option<u64> {
        i64::from_value(v).and_then(|i| u64::try_from(i).ok())
    }
}
impl FromValue for u32 {
    const NAME: &'static str = "integer";
    fn from_value(v: &Value) -> Option<u32> {
        i64::from_value(v).and_then(|i| u32::try_from(i).ok())
    }
}
impl FromValue for bool {
    const NAME: &'static str = "integer";
    fn from_value(v: &Value) -> Option<bool> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl FromValue for f64 {
    const NAME: &'static str = "real";
    fn from_value(v: &Value) -> Option<f64> {
        match v {
            Value::Real(r) => Some(*r),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromValue for f32 {
    const NAME: &'static str = "real";
    fn from_value(v: &Value) -> Option<f32> {
        f64::from_value(v).map(|r| r as f32)
    }
}
impl FromValue for String {
    const NAME: &'static str = "text";
    fn from_value(v: &Value) -> Option<String> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    const NAME: &'static str = T::NAME;
    fn from_value(v: &Value) -> Option<Option<T>> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, Default)]
pub struct Row(Vec<Value>);

impl Row {
    pub fn get<T: FromValue>(&self, column: usize) -> Result<T, DbError> {
        let v = self.0.get(column).unwrap_or(&Value::Null);
        T::from_value(v).ok_or(DbError::Type {
            column,
            expected: T::NAME,
            found: v.kind(),
        })
    }

    /// A text column without copying it.
    pub fn str(&self, column: usize) -> Result<&str, DbError> {
        match self.0.get(column) {
            Some(Value::Text(s)) => Ok(s),
            other => Err(DbError::Type {
                column,
                expected: "text",
                found: other.unwrap_or(&Value::Null).kind(),
            }),
        }
    }

    pub fn opt_str(&self, column: usize) -> Result<Option<&str>, DbError> {
        match self.0.get(column) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(column).map(Some),
        }
    }
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

/// A connection to either backend.
pub struct Db {
    conn: Conn,
    statements: HashMap<String, postgres::Statement>,
}

impl Db {
    pub fn sqlite(conn: rusqlite::Connection) -> Db {
        Db {
            conn: Conn::Sqlite(conn),
            statements: HashMap::new(),
        }
    }

    pub fn postgres(client: postgres::Client) -> Db {
        Db {
            conn: Conn::Postgres(Box::new(client)),
            statements: HashMap::new(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, busy timeout).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.conn {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres(_) => None,
        }
    }

    /// Milliseconds since the epoch by the database's clock: leases are compared on one
    /// clock, whatever the workers' clocks say.
    pub fn now_ms_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Backend::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    fn pg_statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let Conn::Postgres(client) = &mut self.conn else {
            unreachable!("only called for PostgreSQL")
        };
        let st = client.prepare(&dollar_placeholders(sql))?;
        self.statements.insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    /// Runs a statement; the number of rows changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        match self.conn {
            Conn::Sqlite(ref c) => {
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(params))? as u64)
            }
            Conn::Postgres(_) => {
                let st = self.pg_statement(sql)?;
                let Conn::Postgres(client) = &mut self.conn else {
                    unreachable!()
                };
                Ok(client.execute(&st, &pg_params(params))?)
            }
        }
    }

    /// Calls `each` for every row, streaming (a million rows are never held at once).
    pub fn for_each<E: From<DbError>>(
        &mut self,
        sql: &str,
        params: &[Value],
        mut each: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<(), E> {
        self.rows(sql, params, |row| each(row))
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut out = Vec::new();
        self.rows(sql, params, |row| {
            out.push(std::mem::take(row));
            Ok::<_, DbError>(())
        })?;
        Ok(out)
    }

    /// Reads every row into one buffer handed to `each`, which may keep its contents.
    fn rows<E: From<DbError>>(
        &mut self,
        sql: &str,
        params: &[Value],
        mut each: impl FnMut(&mut Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut row = Row::default();
        match self.conn {
            Conn::Sqlite(ref c) => {
                let mut st = c.prepare_cached(sql).map_err(DbError::from)?;
                let mut rows = st
                    .query(rusqlite::params_from_iter(params))
                    .map_err(DbError::from)?;
                while let Some(r) = rows.next().map_err(DbError::from)? {
                    sqlite_row(r, &mut row)?;
                    each(&mut row)?;
                }
            }
            Conn::Postgres(_) => {
                let st = self.pg_statement(sql)?;
                let Conn::Postgres(client) = &mut self.conn else {
                    unreachable!()
                };
                use postgres::fallible_iterator::FallibleIterator;
                let mut rows = client
                    .query_raw(&st, pg_params(params))
                    .map_err(DbError::from)?;
                while let Some(r) = rows.next().map_err(DbError::from)? {
                    postgres_row(&r, &mut row)?;
                    each(&mut row)?;
                }
            }
        }
        Ok(())
    }

    /// The first row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row; a query that returns none is a type error on column 0.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or(DbError::Type {
            column: 0,
            expected: "a row",
            found: "none",
        })
    }

    /// Several statements without parameters (schema).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(c) => c.execute_batch(sql)?,
            Conn::Postgres(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Runs `work` in one transaction: committed if it returns Ok, rolled back otherwise.
    /// SQLite takes its write lock at the start (no deadlock on upgrade).
    pub fn transaction<T, E: From<DbError>>(
        &mut self,
        work: impl FnOnce(&mut Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let begin = match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.batch(begin)?;
        match work(self) {
            Ok(v) => match self.batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.batch("ROLLBACK");
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// `?1` → `$1` outside string literals (the index writes SQLite-style placeholders).
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
        }
        if c == '?' && !in_string && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

fn sqlite_row(r: &rusqlite::Row<'_>, out: &mut Row) -> Result<(), DbError> {
    use rusqlite::types::ValueRef;
    out.0.clear();
    for i in 0..r.as_ref().column_count() {
        out.0.push(match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Real(v),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(_) => {
                return Err(DbError::Type {
                    column: i,
                    expected: "integer, real or text",
                    found: "blob",
                })
            }
        });
    }
    Ok(())
}

fn postgres_row(r: &postgres::Row, out: &mut Row) -> Result<(), DbError> {
    out.0.clear();
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Value::Real)
        } else if *ty == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into()))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            r.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(DbError::Type {
                column: i,
                expected: "integer, real or text",
                found: "another PostgreSQL type",
            });
        };
        out.0.push(v.unwrap_or(Value::Null));
    }
    Ok(())
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Values go to PostgreSQL as the type the server inferred for the placeholder.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => {
                if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*i as f64).to_sql(ty, out)
                } else {
                    i.to_string().to_sql(ty, out)
                }
            }
            Value::Real(r) => {
                if *ty == Type::FLOAT4 {
                    (*r as f32).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    r.to_sql(ty, out)
                } else {
                    r.to_string().to_sql(ty, out)
                }
            }
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_literals() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', x FROM t WHERE a = ?1 AND b = ?12 AND c = '?'"),
            "SELECT '?1', x FROM t WHERE a = $1 AND b = $12 AND c = '?'"
        );
    }

    #[test]
    fn sqlite_round_trips_values_and_rolls_back_failed_transactions() {
        let mut db = Db::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE t (a INTEGER, b REAL, c TEXT)")
            .unwrap();
        db.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3)",
            &vals![7u32, 0.5f64, Some("x")],
        )
        .unwrap();
        let failed: Result<(), DbError> = db.transaction(|db| {
            db.execute("INSERT INTO t VALUES (1, 1, NULL)", &[])?;
            db.execute("INSERT INTO nowhere VALUES (1)", &[])?;
            Ok(())
        });
        assert!(failed.is_err());
        let rows = db.query("SELECT a, b, c FROM t", &[]).unwrap();
        assert_eq!(rows.len(), 1, "the failed transaction left nothing");
        assert_eq!(rows[0].get::<u32>(0).unwrap(), 7);
        assert_eq!(rows[0].get::<f64>(1).unwrap(), 0.5);
        assert_eq!(rows[0].str(2).unwrap(), "x");
        assert!(matches!(
            rows[0].get::<String>(0),
            Err(DbError::Type { column: 0, .. })
        ));
        assert_eq!(
            rows[0].get::<Option<String>>(2).unwrap().as_deref(),
            Some("x")
        );
    }
}
