//! What a column holds, from information_schema's `DATA_TYPE`: the one reading of it that the
//! encoders, the backup's literals, the row checksum and the chunk key all go by.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    Integer,
    /// DECIMAL / NUMERIC
    Decimal,
    Float,
    /// DOUBLE / REAL
    Double,
    Year,
    Date,
    /// DATETIME / TIMESTAMP
    DateTime,
    Time,
    Bit,
    /// GEOMETRY and the other spatial types: the server's own binary format.
    Spatial,
    /// BLOB, BINARY, VARBINARY: bytes.
    Binary,
    /// Characters, ENUM, SET, JSON and anything else.
    Text,
}

impl TypeClass {
    pub fn of(data_type: &str) -> TypeClass {
        match data_type.to_ascii_lowercase().as_str() {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => TypeClass::Integer,
            "decimal" | "numeric" => TypeClass::Decimal,
            "float" => TypeClass::Float,
            "double" | "real" => TypeClass::Double,
            "year" => TypeClass::Year,
            "date" => TypeClass::Date,
            "datetime" | "timestamp" => TypeClass::DateTime,
            "time" => TypeClass::Time,
            "bit" => TypeClass::Bit,
            "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring" | "multipolygon"
            | "geometrycollection" => TypeClass::Spatial,
            t if t.contains("blob") || t.contains("binary") => TypeClass::Binary,
            _ => TypeClass::Text,
        }
    }

    /// A number: integers, DECIMAL, FLOAT, DOUBLE and YEAR.
    pub fn is_numeric(self) -> bool {
        matches!(self, TypeClass::Integer | TypeClass::Decimal | TypeClass::Float | TypeClass::Double | TypeClass::Year)
    }

    /// A date or a time of day.
    pub fn is_temporal(self) -> bool {
        matches!(self, TypeClass::Date | TypeClass::DateTime | TypeClass::Time)
    }
}

/// The first number in a COLUMN_TYPE's parentheses: `datetime(3)` -> 3, `binary(16)` -> 16,
/// `decimal(8,2) unsigned` -> 8; None without one.
pub fn type_width(column_type: &str) -> Option<usize> {
    column_type.split_once('(')?.1.split([')', ',']).next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::TypeClass::{self, *};

    #[test]
    fn data_types_are_read_once_for_everyone() {
        let cases = [
            ("bigint", Integer),
            ("DECIMAL", Decimal),
            ("real", Double),
            ("year", Year),
            ("timestamp", DateTime),
            ("bit", Bit),
            ("multipolygon", Spatial),
            ("mediumblob", Binary),
            ("varbinary", Binary),
            ("json", Text),
            ("enum", Text),
        ];
        for (t, class) in cases {
            assert_eq!(TypeClass::of(t), class, "{t}");
        }
        assert!(TypeClass::of("year").is_numeric() && !TypeClass::of("time").is_numeric());
        assert!(TypeClass::of("time").is_temporal());
    }
}
