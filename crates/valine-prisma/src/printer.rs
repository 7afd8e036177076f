//! Pretty printer: AST back to schema text in `prisma format` style (aligned columns).
//! `parse(print(ast)) == ast` is a tested property, so every construct must round-trip.

use crate::ast::*;
use crate::lexer::escape;
use std::fmt::Write;

pub fn print(schema: &Schema) -> String {
    let mut out = String::new();
    for (i, block) in schema.blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match block {
            Block::Datasource(c) => config(&mut out, "datasource", c),
            Block::Generator(c) => config(&mut out, "generator", c),
            Block::Model(m) => model(&mut out, m),
            Block::Enum(e) => enumeration(&mut out, e),
        }
    }
    out
}

fn docs(out: &mut String, indent: &str, docs: &[Name<'_>]) {
    for d in docs {
        let _ = writeln!(out, "{indent}/// {d}");
    }
}

fn config(out: &mut String, kw: &str, c: &ConfigBlock) {
    docs(out, "", &c.docs);
    let _ = writeln!(out, "{kw} {} {{", c.name);
    let width = c.properties.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in &c.properties {
        let _ = writeln!(out, "  {:width$} = {}", p.name, expr(&p.value));
    }
    out.push_str("}\n");
}

fn model(out: &mut String, m: &Model) {
    docs(out, "", &m.docs);
    let _ = writeln!(out, "{} {} {{", m.kind.keyword(), m.name);
    let name_w = m.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
    let types: Vec<String> = m.fields.iter().map(Field::type_display).collect();
    let type_w = types.iter().map(String::len).max().unwrap_or(0);
    for (f, ty) in m.fields.iter().zip(&types) {
        docs(out, "  ", &f.docs);
        let mut line = format!("  {:name_w$} {:type_w$}", f.name, ty);
        for a in &f.attributes {
            line.push(' ');
            line.push_str(&attribute("@", a));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !m.attributes.is_empty() {
        if !m.fields.is_empty() {
            out.push('\n');
        }
        for a in &m.attributes {
            let _ = writeln!(out, "  {}", attribute("@@", a));
        }
    }
    out.push_str("}\n");
}

fn enumeration(out: &mut String, e: &Enum) {
    docs(out, "", &e.docs);
    let _ = writeln!(out, "enum {} {{", e.name);
    for v in &e.values {
        docs(out, "  ", &v.docs);
        let mut line = format!("  {}", v.name);
        for a in &v.attributes {
            line.push(' ');
            line.push_str(&attribute("@", a));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if !e.attributes.is_empty() {
        out.push('\n');
        for a in &e.attributes {
            let _ = writeln!(out, "  {}", attribute("@@", a));
        }
    }
    out.push_str("}\n");
}

fn attribute(prefix: &str, a: &Attribute) -> String {
    if a.args.is_empty() {
        format!("{prefix}{}", a.name)
    } else {
        format!("{prefix}{}({})", a.name, args(&a.args))
    }
}

fn args(args: &[Argument]) -> String {
    args.iter()
        .map(|a| match &a.name {
            Some(n) => format!("{n}: {}", expr(&a.value)),
            None => expr(&a.value),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders an expression as schema text.
pub fn expr(e: &Expr) -> String {
    match e {
        Expr::String(s) => escape(s),
        Expr::Number(n) => n.to_string(),
        Expr::Path(p) => p.to_string(),
        Expr::Array(items) => format!(
            "[{}]",
            items.iter().map(expr).collect::<Vec<_>>().join(", ")
        ),
        Expr::Function { name, args: a } => format!("{name}({})", args(a)),
    }
}
