use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::ast::Statement;

#[test]
fn explore() {
    let d = MySqlDialect {};
    for sql in [
        "CREATE DEFINER=CURRENT_USER SQL SECURITY INVOKER VIEW actor_info AS SELECT GROUP_CONCAT(DISTINCT CONCAT(c.name, ': ') ORDER BY c.name SEPARATOR '; ') AS x, _utf8' ' AS y, IF(a, 1, 2) FROM sakila.actor a",
        "create table t (a int(10) unsigned, b decimal(10,2) unsigned, c year(4), d geometry, e point, f varchar(10), g bit(3), h enum('a','B'), i set('x'), j json, k double precision, l float(7,3), m time(3), n serial, o nchar(3), r bool, s int4, t mediumint, u binary(3), v varbinary(3), w longtext, x linestring, y multipolygon, z geomcollection, aa int default b'01', ab blob default 0x0102, ac int not null key, ad int unique key, ae char, af double(10,2) unsigned, ag real, ah tinyint(1) signed, ai long, aj polygon srid 4326, ak varchar(3) as (concat(a, 'x')) stored)",
        "create table t (n national char(3))",
        "create table t (n long varchar)",
        "create table t (n int zerofill)",
        "create table t (n varchar(4) binary)",
        "create table t (n int, key a (n(10), (lower(n)) desc))",
    ] {
        match Parser::parse_sql(&d, sql) {
            Ok(s) => {
                if let Statement::CreateTable(ct) = &s[0] {
                    for c in &ct.columns { println!("{} {:?} {:?}", c.name, c.data_type, c.options.iter().map(|o| &o.option).collect::<Vec<_>>()); }
                    for c in &ct.constraints { println!("{:?}", c); }
                } else if let Statement::CreateView(v) = &s[0] { println!("{:?}", v.query.body); }
                println!("{}", s[0]);
            }
            Err(e) => println!("ERR {e}"),
        }
    }
}
