//! Parquet reading with the parquet crate's record API (no arrow): each row becomes a JSON
//! object in schema column order, nested lists and structs included.

use std::path::Path;

use parquet::file::reader::SerializedFileReader;
use parquet::record::Field;
use serde_json::Value;

use super::Doc;
use crate::TaskError;

/// Read every row of a parquet file. Returns (1-based row, doc).
pub fn read(path: &Path) -> Result<Vec<(usize, Doc)>, TaskError> {
    let err = |row: Option<usize>, e: String| TaskError::Data {
        location: match row {
            Some(r) => format!("{} row {r}", path.display()),
            None => path.display().to_string(),
        },
        message: e,
    };
    let file =
        std::fs::File::open(path).map_err(|e| err(None, format!("cannot open the file: {e}")))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| err(None, format!("not a readable parquet file: {e}")))?;
    let iter = reader.into_iter();
    let mut docs = Vec::new();
    for (i, row) in iter.enumerate() {
        let row = row.map_err(|e| err(Some(i + 1), format!("cannot decode the row: {e}")))?;
        let mut doc = Doc::new();
        for (name, field) in row.get_column_iter() {
            doc.insert(
                name.clone(),
                to_json(field).map_err(|e| err(Some(i + 1), format!("column `{name}`: {e}")))?,
            );
        }
        docs.push((i + 1, doc));
    }
    Ok(docs)
}

fn to_json(field: &Field) -> Result<Value, String> {
    Ok(match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(*n),
        Field::Short(n) => Value::from(*n),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => Value::from(*n),
        Field::UByte(n) => Value::from(*n),
        Field::UShort(n) => Value::from(*n),
        Field::UInt(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Float(x) => float(f64::from(*x))?,
        Field::Double(x) => float(*x)?,
        Field::Str(s) => Value::String(s.clone()),
        Field::Bytes(b) => match b.as_utf8() {
            Ok(s) => Value::String(s.to_string()),
            Err(_) => return Err("binary column values are not supported".into()),
        },
        Field::Group(row) => {
            let mut map = Doc::new();
            for (name, f) in row.get_column_iter() {
                map.insert(name.clone(), to_json(f)?);
            }
            Value::Object(map)
        }
        Field::ListInternal(list) => Value::Array(
            list.elements()
                .iter()
                .map(to_json)
                .collect::<Result<_, _>>()?,
        ),
        Field::MapInternal(map) => {
            let mut out = Doc::new();
            for (k, v) in map.entries() {
                let key = match to_json(k)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        other => return Err(format!("unsupported parquet value {other}")),
    })
}

fn float(x: f64) -> Result<Value, String> {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| format!("non-finite float {x}"))
}
