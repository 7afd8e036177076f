//! Recursive-descent parser from tokens to [`crate::ast`], following Prisma's grammar:
//! one declaration per line, `{` on the line naming the block, no multi-line attributes.

use crate::ast::*;
use crate::error::SchemaError;
use crate::lexer::{Span, Tok, Token, is_number, lex};

/// Nesting limit for arrays and function calls, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub fn parse_syntax(src: &str) -> Result<Schema, SchemaError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        src,
        tokens: &tokens,
        pos: 0,
    };
    p.schema()
}

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token<'a>],
    pos: usize,
}

type PResult<T> = Result<T, SchemaError>;

impl<'a> Parser<'a> {
    fn peek(&self) -> &'a Tok<'a> {
        self.tokens.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> &'a Tok<'a> {
        self.tokens.get(self.pos + n).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn span(&self) -> Span {
        self.tokens.get(self.pos).map_or(
            Span {
                start: self.src.len(),
                end: self.src.len(),
            },
            |t| t.span,
        )
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.span.end)
    }

    fn bump(&mut self) {
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(SchemaError::at(self.src, self.span().start, msg))
    }

    fn describe(tok: &Tok<'_>) -> String {
        match tok {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Str(_) => "a string".into(),
            Tok::At => "`@`".into(),
            Tok::AtAt => "`@@`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Eq => "`=`".into(),
            Tok::Question => "`?`".into(),
            Tok::Newline => "the end of the line".into(),
            Tok::Comment { .. } => "a comment".into(),
            Tok::Eof => "the end of the file".into(),
        }
    }

    fn expect(&mut self, want: &Tok<'_>, what: &str) -> PResult<Span> {
        if self.peek() == want {
            let s = self.span();
            self.bump();
            Ok(s)
        } else {
            self.err(format!(
                "expected {what}, found {}",
                Self::describe(self.peek())
            ))
        }
    }

    /// An identifier: a word that is not a number and does not start with `-`.
    fn ident(&mut self, what: &str) -> PResult<(&'a str, Span)> {
        match self.peek() {
            Tok::Word(w) if !w.starts_with('-') && !is_number(w) => {
                let s = self.span();
                self.bump();
                Ok((*w, s))
            }
            other => self.err(format!("expected {what}, found {}", Self::describe(other))),
        }
    }

    /// End of a declaration line: an optional trailing comment, then a newline (or the end
    /// of the file). A `}` is left for the caller only when `allow_close` is set.
    fn end_of_line(&mut self, allow_close: bool) -> PResult<()> {
        if let Tok::Comment { .. } = self.peek() {
            self.bump();
        }
        match self.peek() {
            Tok::Newline => {
                self.bump();
                Ok(())
            }
            Tok::Eof => Ok(()),
            Tok::RBrace if allow_close => Ok(()),
            other => self.err(format!(
                "expected the end of the line, found {}",
                Self::describe(other)
            )),
        }
    }

    /// Skips blank lines and plain comments; returns `///` lines seen since the last blank
    /// line, which document the declaration that follows.
    fn trivia(&mut self) -> Vec<String> {
        let mut docs = Vec::new();
        loop {
            match self.peek() {
                Tok::Newline => {
                    self.bump();
                }
                Tok::Comment { doc, text } => {
                    if *doc {
                        docs.push(text.strip_prefix(' ').unwrap_or(text).to_string());
                    }
                    self.bump();
                }
                _ => return docs,
            }
        }
    }

    fn schema(&mut self) -> PResult<Schema> {
        let mut blocks = Vec::new();
        loop {
            let docs = self.trivia();
            let start = self.span();
            let kw = match self.peek() {
                Tok::Eof => break,
                Tok::Word(w) => *w,
                _ => {
                    return self.err(
                        "This line is invalid. It does not start with any known Prisma schema keyword.",
                    );
                }
            };
            let block = match kw {
                "model" => Block::Model(self.model(ModelKind::Model, docs)?),
                "view" => Block::Model(self.model(ModelKind::View, docs)?),
                "type" => {
                    if matches!(self.peek_at(2), Tok::Eq) {
                        return self.err("Type aliases are not supported by Prisma.");
                    }
                    Block::Model(self.model(ModelKind::Type, docs)?)
                }
                "enum" => Block::Enum(self.enumeration(docs)?),
                "datasource" => Block::Datasource(self.config(docs)?),
                "generator" => Block::Generator(self.config(docs)?),
                _ => {
                    return Err(SchemaError::at(
                        self.src,
                        start.start,
                        "This line is invalid. It does not start with any known Prisma schema keyword.",
                    ));
                }
            };
            blocks.push(block);
        }
        Ok(Schema { blocks })
    }

    /// `keyword Name {` then end of line. Returns the name, its span, and the block start.
    fn block_header(&mut self, what: &str) -> PResult<(String, Span, usize)> {
        let start = self.span().start;
        self.bump(); // keyword
        let (name, name_span) = self.ident(&format!("a {what} name"))?;
        let name = name.to_string();
        match self.peek() {
            Tok::LBrace => self.bump(),
            Tok::Newline | Tok::Comment { .. } => {
                // Prisma's grammar has no newline between a block's name and its `{`; point
                // at the brace if it sits on a following line, since that is what to move.
                let mut look = self.pos;
                while let Some(t) = self.tokens.get(look) {
                    match t.tok {
                        Tok::Newline | Tok::Comment { .. } => look += 1,
                        _ => break,
                    }
                }
                let at = match self.tokens.get(look) {
                    Some(t) if t.tok == Tok::LBrace => t.span.start,
                    _ => self.span().start,
                };
                return Err(SchemaError::at(
                    self.src,
                    at,
                    format!(
                        "the opening `{{` of {what} `{name}` must be on the same line as its name"
                    ),
                ));
            }
            other => {
                return self.err(format!(
                    "expected `{{` after {what} `{name}`, found {}",
                    Self::describe(other)
                ));
            }
        }
        // Prisma's BLOCK_OPEN is `{` plus the rest of its line, whatever that holds: a
        // comment, or even text (ignored). So `model A {}` does not close the block either.
        loop {
            match self.peek() {
                Tok::Newline => {
                    self.bump();
                    break;
                }
                Tok::Eof => break,
                _ => self.bump(),
            }
        }
        Ok((name, name_span, start))
    }

    /// The closing `}` of a block. What follows on its line is read as top-level input, as
    /// in Prisma's grammar: a comment, another block, or an error.
    fn block_close(&mut self) -> PResult<usize> {
        let end = self.span().end;
        self.expect(&Tok::RBrace, "`}`")?;
        Ok(end)
    }

    fn model(&mut self, kind: ModelKind, docs: Vec<String>) -> PResult<Model> {
        let (name, name_span, start) = self.block_header(kind.keyword())?;
        let mut fields = Vec::new();
        let mut attributes = Vec::new();
        loop {
            let field_docs = self.trivia();
            match self.peek() {
                Tok::RBrace => break,
                Tok::Eof => {
                    return self.err(format!(
                        "{} `{name}` is not closed: expected `}}`",
                        kind.keyword()
                    ));
                }
                Tok::AtAt => {
                    let at = self.span().start;
                    self.bump();
                    attributes.push(self.attribute_body(at)?);
                    self.end_of_line(false)?;
                }
                Tok::Word(_) => fields.push(self.field(field_docs)?),
                other => {
                    return self.err(format!(
                        "expected a field or a block attribute, found {}",
                        Self::describe(other)
                    ));
                }
            }
        }
        let end = self.block_close()?;
        Ok(Model {
            kind,
            name,
            fields,
            attributes,
            docs,
            span: Span { start, end },
            name_span,
        })
    }

    fn field(&mut self, docs: Vec<String>) -> PResult<Field> {
        let start = self.span().start;
        let (name, _) = self.ident("a field name")?;
        let name = intern(name);
        if matches!(self.peek(), Tok::Colon) {
            return self.err("Field declarations don't require a `:`.");
        }
        let type_start = self.span().start;
        let ty = match self.peek() {
            Tok::Word(w) if *w == "Unsupported" && matches!(self.peek_at(1), Tok::LParen) => {
                self.bump();
                self.bump();
                let s = match self.peek() {
                    Tok::Str(s) => s.to_string(),
                    _ => return self.err("`Unsupported` takes one string argument"),
                };
                self.bump();
                self.expect(&Tok::RParen, "`)`")?;
                FieldType::Unsupported(s)
            }
            Tok::Word(_) => FieldType::Named(intern(self.ident("a field type")?.0)),
            _ => {
                return Err(SchemaError::at(
                    self.src,
                    start,
                    format!(
                        "This field declaration is invalid. It is either missing a name or a type (field `{name}`)."
                    ),
                ));
            }
        };
        let arity = match (self.peek(), self.peek_at(1)) {
            (Tok::LBracket, Tok::RBracket) => {
                self.bump();
                self.bump();
                if matches!(self.peek(), Tok::Question) {
                    return self
                        .err("Optional lists are not supported. Use either `Type[]` or `Type?`.");
                }
                Arity::List
            }
            (Tok::Question, _) => {
                self.bump();
                if matches!(self.peek(), Tok::LBracket | Tok::Question) {
                    return self
                        .err("Optional lists are not supported. Use either `Type[]` or `Type?`.");
                }
                Arity::Optional
            }
            _ => Arity::Required,
        };
        let type_span = Span {
            start: type_start,
            end: self.prev_end(),
        };
        let mut attributes = Vec::new();
        while matches!(self.peek(), Tok::At) {
            let at = self.span().start;
            self.bump();
            attributes.push(self.attribute_body(at)?);
        }
        let end = self.prev_end();
        self.end_of_line(false)?;
        Ok(Field {
            name,
            ty,
            arity,
            attributes,
            docs,
            span: Span { start, end },
            type_span,
        })
    }

    /// After `@`/`@@`: a dotted path and optional arguments, all on this line.
    fn attribute_body(&mut self, start: usize) -> PResult<Attribute> {
        let name = self.path("an attribute name")?;
        let args = if matches!(self.peek(), Tok::LParen) {
            self.arguments(0)?
        } else {
            Vec::new()
        };
        Ok(Attribute {
            name,
            args,
            span: Span {
                start,
                end: self.prev_end(),
            },
        })
    }

    fn path(&mut self, what: &str) -> PResult<Name> {
        let (first, _) = self.ident(what)?;
        if !matches!(self.peek(), Tok::Dot) {
            return Ok(intern(first));
        }
        let mut name = first.to_string();
        while matches!(self.peek(), Tok::Dot) {
            self.bump();
            let (part, _) = self.ident("a name after `.`")?;
            name.push('.');
            name.push_str(part);
        }
        Ok(intern(&name))
    }

    fn arguments(&mut self, depth: usize) -> PResult<Vec<Argument>> {
        if depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        self.expect(&Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        loop {
            if matches!(self.peek(), Tok::RParen) {
                self.bump();
                return Ok(args);
            }
            let start = self.span().start;
            let named =
                matches!(self.peek(), Tok::Word(_)) && matches!(self.peek_at(1), Tok::Colon);
            let name = if named {
                let (n, _) = self.ident("an argument name")?;
                self.bump(); // ':'
                Some(intern(n))
            } else {
                None
            };
            if matches!(self.peek(), Tok::Comma | Tok::RParen) {
                return self.err("expected an argument value");
            }
            let value = self.expr(depth + 1)?;
            args.push(Argument {
                name,
                value,
                span: Span {
                    start,
                    end: self.prev_end(),
                },
            });
            match self.peek() {
                Tok::Comma => self.bump(),
                Tok::RParen => {}
                other => {
                    return self.err(format!(
                        "expected `,` or `)` in the argument list, found {}",
                        Self::describe(other)
                    ));
                }
            }
        }
    }

    fn expr(&mut self, depth: usize) -> PResult<Expr> {
        if depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        match self.peek() {
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::String(s.to_string()))
            }
            Tok::Word(w) if is_number(w) => {
                self.bump();
                Ok(Expr::Number(w.to_string()))
            }
            Tok::Word(_) => {
                let name = self.path("a value")?;
                if matches!(self.peek(), Tok::LParen) {
                    let args = self.arguments(depth + 1)?;
                    Ok(Expr::Function { name, args })
                } else {
                    Ok(Expr::Path(name))
                }
            }
            Tok::LBracket => {
                self.bump();
                let mut items = Vec::new();
                if matches!(self.peek(), Tok::RBracket) {
                    self.bump();
                    return Ok(Expr::Array(items));
                }
                // Unlike argument lists, Prisma's arrays take no trailing comma.
                loop {
                    items.push(self.expr(depth + 1)?);
                    match self.peek() {
                        Tok::Comma => self.bump(),
                        Tok::RBracket => {
                            self.bump();
                            return Ok(Expr::Array(items));
                        }
                        other => {
                            return self.err(format!(
                                "expected `,` or `]` in the list, found {}",
                                Self::describe(other)
                            ));
                        }
                    }
                }
            }
            other => self.err(format!("expected a value, found {}", Self::describe(other))),
        }
    }

    fn enumeration(&mut self, docs: Vec<String>) -> PResult<Enum> {
        let (name, name_span, start) = self.block_header("enum")?;
        let mut values = Vec::new();
        let mut attributes = Vec::new();
        loop {
            let value_docs = self.trivia();
            match self.peek() {
                Tok::RBrace => break,
                Tok::Eof => return self.err(format!("enum `{name}` is not closed: expected `}}`")),
                Tok::AtAt => {
                    let at = self.span().start;
                    self.bump();
                    attributes.push(self.attribute_body(at)?);
                    self.end_of_line(false)?;
                }
                Tok::Word(_) => {
                    let vstart = self.span().start;
                    let (vname, _) = self.ident("an enum value")?;
                    let vname = vname.to_string();
                    let mut vattrs = Vec::new();
                    while matches!(self.peek(), Tok::At) {
                        let at = self.span().start;
                        self.bump();
                        vattrs.push(self.attribute_body(at)?);
                    }
                    let end = self.prev_end();
                    self.end_of_line(false)?;
                    values.push(EnumValue {
                        name: vname,
                        attributes: vattrs,
                        docs: value_docs,
                        span: Span { start: vstart, end },
                    });
                }
                other => {
                    return self.err(format!(
                        "expected an enum value, found {}",
                        Self::describe(other)
                    ));
                }
            }
        }
        let end = self.block_close()?;
        Ok(Enum {
            name,
            values,
            attributes,
            docs,
            span: Span { start, end },
            name_span,
        })
    }

    fn config(&mut self, docs: Vec<String>) -> PResult<ConfigBlock> {
        let (name, _, start) = self.block_header("configuration block")?;
        let mut properties = Vec::new();
        loop {
            self.trivia();
            match self.peek() {
                Tok::RBrace => break,
                Tok::Eof => {
                    return self.err(format!("block `{name}` is not closed: expected `}}`"));
                }
                Tok::Word(_) => {
                    let pstart = self.span().start;
                    let (pname, _) = self.ident("a property name")?;
                    let pname = pname.to_string();
                    self.expect(&Tok::Eq, "`=` after the property name")?;
                    if matches!(self.peek(), Tok::Newline | Tok::Comment { .. } | Tok::Eof) {
                        return self.err(format!("property `{pname}` has no value"));
                    }
                    let value = self.expr(0)?;
                    let end = self.prev_end();
                    self.end_of_line(false)?;
                    properties.push(Property {
                        name: pname,
                        value,
                        span: Span { start: pstart, end },
                    });
                }
                other => {
                    return self.err(format!(
                        "expected `key = value`, found {}",
                        Self::describe(other)
                    ));
                }
            }
        }
        let end = self.block_close()?;
        Ok(ConfigBlock {
            name,
            properties,
            docs,
            span: Span { start, end },
        })
    }
}
