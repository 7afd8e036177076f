//! Recursive-descent parser from tokens to [`crate::ast`], following Prisma's grammar:
//! one declaration per line, `{` on the line naming the block, no multi-line attributes.

use crate::ast::*;
use crate::error::SchemaError;
use crate::lexer::{Kind, Lexer, RawToken as Token, Span, is_number, string_value};

/// Nesting limit for arrays and function calls, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub fn parse_syntax(src: &str) -> Result<Schema<'_>, SchemaError> {
    let mut p = Parser::new(src);
    let result = p.schema();
    // Tokens are lexed as the parser goes, but a lexical error anywhere in the input is
    // reported before any syntax error, as if the whole input had been tokenized first.
    if let Some(e) = p.lex_error.take() {
        return Err(e);
    }
    let Err(e) = result else {
        return result;
    };
    let mut rest = p.lexer;
    loop {
        match rest.next_token().kind {
            Kind::Eof => return Err(e),
            Kind::Error => return Err(rest.take_error().unwrap_or(e)),
            _ => {}
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    /// The current token, then up to two tokens of lookahead (`ahead[..n_ahead]`, filled
    /// on demand, in order).
    cur: Token,
    ahead: [Token; 2],
    n_ahead: usize,
    /// End offset of the token before `cur`.
    prev_end: usize,
    /// The first lexical error; once set, the lexer is not asked again and every further
    /// token is `Eof`.
    lex_error: Option<SchemaError>,
    /// Scratch stacks for the lists being built (nested lists push above their parent's
    /// entries and take theirs off when done), so each finished list is allocated once, at
    /// its exact size, instead of growing (and copying) step by step.
    fields: Vec<Field<'a>>,
    attrs: Vec<Attribute<'a>>,
    args: Vec<Argument<'a>>,
    items: Vec<Expr<'a>>,
}

/// The entries of `stack` from `base` on, as a list of its own (allocated at its exact size
/// and filled with one copy, where collecting a drain moved entry by entry).
fn take<T>(stack: &mut Vec<T>, base: usize) -> Vec<T> {
    if base > stack.len() {
        return Vec::new();
    }
    stack.split_off(base)
}

type PResult<T> = Result<T, SchemaError>;

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        let mut p = Parser {
            src,
            lexer: Lexer::new(src),
            cur: Self::eof(src),
            ahead: [Self::eof(src); 2],
            n_ahead: 0,
            prev_end: 0,
            lex_error: None,
            fields: Vec::new(),
            attrs: Vec::new(),
            args: Vec::new(),
            items: Vec::new(),
        };
        p.cur = p.fetch();
        p
    }

    fn eof(src: &str) -> Token {
        Token {
            kind: Kind::Eof,
            span: Span {
                start: src.len(),
                end: src.len(),
            },
        }
    }

    fn fetch(&mut self) -> Token {
        if self.lex_error.is_none() {
            let t = self.lexer.next_token();
            if t.kind != Kind::Error {
                return t;
            }
            self.lexer_failed(t);
        }
        Self::eof(self.src)
    }

    #[cold]
    fn lexer_failed(&mut self, t: Token) {
        let e = self.lexer.take_error();
        self.lex_error =
            Some(e.unwrap_or_else(|| SchemaError::at(self.src, t.span.start, "invalid input")));
    }

    fn peek(&self) -> Kind {
        self.cur.kind
    }

    /// The text of a token (a word's name, a comment's body).
    fn text(&self, t: Token) -> &'a str {
        self.src.get(t.span.start..t.span.end).unwrap_or("")
    }

    /// The kind of the token `n` (1 or 2) places after the current one.
    fn peek_at(&mut self, n: usize) -> Kind {
        let n = n.min(self.ahead.len());
        while self.n_ahead < n {
            let t = self.fetch();
            if let Some(slot) = self.ahead.get_mut(self.n_ahead) {
                *slot = t;
            }
            self.n_ahead += 1;
        }
        match n.checked_sub(1).and_then(|i| self.ahead.get(i)) {
            Some(t) => t.kind,
            None => self.cur.kind,
        }
    }

    /// The current token and every one after it, without consuming any (error paths only:
    /// it re-lexes the rest of the input lazily).
    fn upcoming(&self) -> impl Iterator<Item = Token> + use<'a> {
        let mut lexer = self.lexer.clone();
        let buffered = std::iter::once(self.cur).chain(
            self.ahead
                .into_iter()
                .take(self.n_ahead.min(self.ahead.len())),
        );
        let failed = self.lex_error.is_some();
        buffered.chain(std::iter::from_fn(move || {
            if failed {
                return None;
            }
            Some(lexer.next_token()).filter(|t| t.kind != Kind::Error)
        }))
    }

    fn span(&self) -> Span {
        self.cur.span
    }

    fn prev_end(&self) -> usize {
        self.prev_end
    }

    fn bump(&mut self) {
        self.prev_end = self.cur.span.end;
        if self.n_ahead == 0 {
            self.cur = self.fetch();
        } else {
            let [a, b] = self.ahead;
            self.cur = a;
            self.ahead[0] = b;
            self.n_ahead -= 1;
        }
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(SchemaError::at(self.src, self.span().start, msg))
    }

    fn describe(&self, tok: Token) -> String {
        match tok.kind {
            Kind::Word => format!("`{}`", self.text(tok)),
            Kind::Str | Kind::StrEscaped => "a string".into(),
            Kind::At => "`@`".into(),
            Kind::AtAt => "`@@`".into(),
            Kind::LBrace => "`{`".into(),
            Kind::RBrace => "`}`".into(),
            Kind::LParen => "`(`".into(),
            Kind::RParen => "`)`".into(),
            Kind::LBracket => "`[`".into(),
            Kind::RBracket => "`]`".into(),
            Kind::Comma => "`,`".into(),
            Kind::Colon => "`:`".into(),
            Kind::Dot => "`.`".into(),
            Kind::Eq => "`=`".into(),
            Kind::Question => "`?`".into(),
            Kind::Newline => "the end of the line".into(),
            Kind::Comment | Kind::DocComment => "a comment".into(),
            Kind::Eof | Kind::Error => "the end of the file".into(),
        }
    }

    fn expect(&mut self, want: Kind, what: &str) -> PResult<Span> {
        if self.peek() == want {
            let s = self.span();
            self.bump();
            Ok(s)
        } else {
            self.err(format!(
                "expected {what}, found {}",
                self.describe(self.cur)
            ))
        }
    }

    /// The value of the current token, a string literal.
    fn string(&self) -> PResult<Name<'a>> {
        let Span { start, end } = self.span();
        match self.peek() {
            // No escapes: the value is the text between the quotes.
            Kind::Str => Ok(Name::Borrowed(
                self.src.get(start + 1..end.saturating_sub(1)).unwrap_or(""),
            )),
            _ => string_value(self.src, start).map(|(v, _)| v),
        }
    }

    /// An identifier: a word that is not a number and does not start with `-`.
    fn ident(&mut self, what: &str) -> PResult<(&'a str, Span)> {
        let t = self.cur;
        if t.kind == Kind::Word {
            let w = self.text(t);
            // Identifiers start with a letter; only words starting with a digit or `-` need
            // the number test.
            if w.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                || !(w.starts_with('-') || is_number(w))
            {
                self.bump();
                return Ok((w, t.span));
            }
        }
        self.err(format!("expected {what}, found {}", self.describe(t)))
    }

    /// End of a declaration line: an optional trailing comment, then a newline (or the end
    /// of the file). A `}` is left for the caller only when `allow_close` is set.
    fn end_of_line(&mut self, allow_close: bool) -> PResult<()> {
        if matches!(self.peek(), Kind::Comment | Kind::DocComment) {
            self.bump();
        }
        match self.peek() {
            Kind::Newline => {
                self.bump();
                Ok(())
            }
            Kind::Eof => Ok(()),
            Kind::RBrace if allow_close => Ok(()),
            _ => self.err(format!(
                "expected the end of the line, found {}",
                self.describe(self.cur)
            )),
        }
    }

    /// Skips blank lines and plain comments; returns `///` lines seen since the last blank
    /// line, which document the declaration that follows.
    fn trivia(&mut self) -> Vec<Name<'a>> {
        let mut docs = Vec::new();
        loop {
            match self.peek() {
                Kind::Newline => {
                    self.bump();
                }
                Kind::DocComment => {
                    let Span { start, end } = self.span();
                    let text = self.src.get(start + 3..end).unwrap_or("");
                    docs.push(Name::Borrowed(text.strip_prefix(' ').unwrap_or(text)));
                    self.bump();
                }
                Kind::Comment => self.bump(),
                _ => return docs,
            }
        }
    }

    fn schema(&mut self) -> PResult<Schema<'a>> {
        let mut blocks = Vec::new();
        loop {
            let docs = self.trivia();
            let start = self.span();
            let kw = match self.peek() {
                Kind::Eof => break,
                Kind::Word => self.text(self.cur),
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
                    if matches!(self.peek_at(2), Kind::Eq) {
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
    fn block_header(&mut self, what: &str) -> PResult<(Name<'a>, Span, usize)> {
        let start = self.span().start;
        self.bump(); // keyword
        let (name, name_span) = self.ident(&format!("a {what} name"))?;
        let name = Name::Borrowed(name);
        match self.peek() {
            Kind::LBrace => self.bump(),
            Kind::Newline | Kind::Comment | Kind::DocComment => {
                // Prisma's grammar has no newline between a block's name and its `{`; point
                // at the brace if it sits on a following line, since that is what to move.
                let next = self
                    .upcoming()
                    .find(|t| !matches!(t.kind, Kind::Newline | Kind::Comment | Kind::DocComment));
                let at = match next {
                    Some(t) if t.kind == Kind::LBrace => t.span.start,
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
            _ => {
                return self.err(format!(
                    "expected `{{` after {what} `{name}`, found {}",
                    self.describe(self.cur)
                ));
            }
        }
        // Prisma's BLOCK_OPEN is `{` plus the rest of its line, whatever that holds: a
        // comment, or even text (ignored). So `model A {}` does not close the block either.
        loop {
            match self.peek() {
                Kind::Newline => {
                    self.bump();
                    break;
                }
                Kind::Eof => break,
                _ => self.bump(),
            }
        }
        Ok((name, name_span, start))
    }

    /// The closing `}` of a block. What follows on its line is read as top-level input, as
    /// in Prisma's grammar: a comment, another block, or an error.
    fn block_close(&mut self) -> PResult<usize> {
        let end = self.span().end;
        self.expect(Kind::RBrace, "`}`")?;
        Ok(end)
    }

    fn model(&mut self, kind: ModelKind, docs: Vec<Name<'a>>) -> PResult<Model<'a>> {
        let (name, name_span, start) = self.block_header(kind.keyword())?;
        let (fields_base, attrs_base) = (self.fields.len(), self.attrs.len());
        loop {
            let field_docs = self.trivia();
            match self.peek() {
                Kind::RBrace => break,
                Kind::Eof => {
                    return self.err(format!(
                        "{} `{name}` is not closed: expected `}}`",
                        kind.keyword()
                    ));
                }
                Kind::AtAt => {
                    let at = self.span().start;
                    self.bump();
                    let attribute = self.attribute_body(at)?;
                    self.attrs.push(attribute);
                    self.end_of_line(false)?;
                }
                Kind::Word => {
                    let field = self.field(field_docs)?;
                    self.fields.push(field);
                }
                _ => {
                    return self.err(format!(
                        "expected a field or a block attribute, found {}",
                        self.describe(self.cur)
                    ));
                }
            }
        }
        let end = self.block_close()?;
        Ok(Model {
            kind,
            name,
            fields: take(&mut self.fields, fields_base),
            attributes: take(&mut self.attrs, attrs_base),
            docs,
            span: Span { start, end },
            name_span,
        })
    }

    fn field(&mut self, docs: Vec<Name<'a>>) -> PResult<Field<'a>> {
        let start = self.span().start;
        let (name, _) = self.ident("a field name")?;
        let name = Name::Borrowed(name);
        if matches!(self.peek(), Kind::Colon) {
            return self.err("Field declarations don't require a `:`.");
        }
        let type_start = self.span().start;
        let ty = match self.peek() {
            Kind::Word
                if self.text(self.cur) == "Unsupported"
                    && matches!(self.peek_at(1), Kind::LParen) =>
            {
                self.bump();
                self.bump();
                let s = match self.peek() {
                    Kind::Str | Kind::StrEscaped => self.string()?,
                    _ => return self.err("`Unsupported` takes one string argument"),
                };
                self.bump();
                self.expect(Kind::RParen, "`)`")?;
                FieldType::Unsupported(s)
            }
            Kind::Word => FieldType::Named(Name::Borrowed(self.ident("a field type")?.0)),
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
        let arity = match self.peek() {
            Kind::LBracket if matches!(self.peek_at(1), Kind::RBracket) => {
                self.bump();
                self.bump();
                if matches!(self.peek(), Kind::Question) {
                    return self
                        .err("Optional lists are not supported. Use either `Type[]` or `Type?`.");
                }
                Arity::List
            }
            Kind::Question => {
                self.bump();
                if matches!(self.peek(), Kind::LBracket | Kind::Question) {
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
        let attrs_base = self.attrs.len();
        while matches!(self.peek(), Kind::At) {
            let at = self.span().start;
            self.bump();
            let attribute = self.attribute_body(at)?;
            self.attrs.push(attribute);
        }
        let end = self.prev_end();
        self.end_of_line(false)?;
        Ok(Field {
            name,
            ty,
            arity,
            attributes: take(&mut self.attrs, attrs_base),
            docs,
            span: Span { start, end },
            type_span,
        })
    }

    /// After `@`/`@@`: a dotted path and optional arguments, all on this line.
    fn attribute_body(&mut self, start: usize) -> PResult<Attribute<'a>> {
        let name = self.path("an attribute name")?;
        let args = if matches!(self.peek(), Kind::LParen) {
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

    fn path(&mut self, what: &str) -> PResult<Name<'a>> {
        let (first, first_span) = self.ident(what)?;
        if !matches!(self.peek(), Kind::Dot) {
            return Ok(Name::Borrowed(first));
        }
        // Written without spaces (`db.VarChar`, as nearly always), the path is a slice of
        // the source; otherwise its parts are joined.
        let mut end = first_span.end;
        let mut joined: Option<String> = None;
        while matches!(self.peek(), Kind::Dot) {
            let dot = self.span();
            self.bump();
            let (part, span) = self.ident("a name after `.`")?;
            if joined.is_none() && (dot.start != end || span.start != dot.end) {
                joined = Some(
                    self.src
                        .get(first_span.start..end)
                        .unwrap_or("")
                        .to_string(),
                );
            }
            match &mut joined {
                Some(name) => {
                    name.push('.');
                    name.push_str(part);
                }
                None => end = span.end,
            }
        }
        Ok(match joined {
            Some(name) => Name::Owned(name),
            None => Name::Borrowed(self.src.get(first_span.start..end).unwrap_or("")),
        })
    }

    fn arguments(&mut self, depth: usize) -> PResult<Vec<Argument<'a>>> {
        if depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        self.expect(Kind::LParen, "`(`")?;
        let base = self.args.len();
        loop {
            if matches!(self.peek(), Kind::RParen) {
                self.bump();
                return Ok(take(&mut self.args, base));
            }
            let start = self.span().start;
            let named = matches!(self.peek(), Kind::Word) && matches!(self.peek_at(1), Kind::Colon);
            let name = if named {
                let (n, _) = self.ident("an argument name")?;
                self.bump(); // ':'
                Some(Name::Borrowed(n))
            } else {
                None
            };
            if matches!(self.peek(), Kind::Comma | Kind::RParen) {
                return self.err("expected an argument value");
            }
            let value = self.expr(depth + 1)?;
            self.args.push(Argument {
                name,
                value,
                span: Span {
                    start,
                    end: self.prev_end(),
                },
            });
            match self.peek() {
                Kind::Comma => self.bump(),
                Kind::RParen => {}
                _ => {
                    return self.err(format!(
                        "expected `,` or `)` in the argument list, found {}",
                        self.describe(self.cur)
                    ));
                }
            }
        }
    }

    fn expr(&mut self, depth: usize) -> PResult<Expr<'a>> {
        if depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        match self.peek() {
            Kind::Str | Kind::StrEscaped => {
                let s = self.string()?;
                self.bump();
                Ok(Expr::String(s))
            }
            Kind::Word if is_number(self.text(self.cur)) => {
                let w = self.text(self.cur);
                self.bump();
                Ok(Expr::Number(Name::Borrowed(w)))
            }
            Kind::Word => {
                let name = self.path("a value")?;
                if matches!(self.peek(), Kind::LParen) {
                    let args = self.arguments(depth + 1)?;
                    Ok(Expr::Function { name, args })
                } else {
                    Ok(Expr::Path(name))
                }
            }
            Kind::LBracket => {
                self.bump();
                if matches!(self.peek(), Kind::RBracket) {
                    self.bump();
                    return Ok(Expr::Array(Vec::new()));
                }
                let base = self.items.len();
                // Unlike argument lists, Prisma's arrays take no trailing comma.
                loop {
                    let item = self.expr(depth + 1)?;
                    self.items.push(item);
                    match self.peek() {
                        Kind::Comma => self.bump(),
                        Kind::RBracket => {
                            self.bump();
                            return Ok(Expr::Array(take(&mut self.items, base)));
                        }
                        _ => {
                            return self.err(format!(
                                "expected `,` or `]` in the list, found {}",
                                self.describe(self.cur)
                            ));
                        }
                    }
                }
            }
            _ => self.err(format!(
                "expected a value, found {}",
                self.describe(self.cur)
            )),
        }
    }

    fn enumeration(&mut self, docs: Vec<Name<'a>>) -> PResult<Enum<'a>> {
        let (name, name_span, start) = self.block_header("enum")?;
        let mut values = Vec::new();
        let mut attributes = Vec::new();
        loop {
            let value_docs = self.trivia();
            match self.peek() {
                Kind::RBrace => break,
                Kind::Eof => {
                    return self.err(format!("enum `{name}` is not closed: expected `}}`"));
                }
                Kind::AtAt => {
                    let at = self.span().start;
                    self.bump();
                    attributes.push(self.attribute_body(at)?);
                    self.end_of_line(false)?;
                }
                Kind::Word => {
                    let vstart = self.span().start;
                    let (vname, _) = self.ident("an enum value")?;
                    let vname = Name::Borrowed(vname);
                    let attrs_base = self.attrs.len();
                    while matches!(self.peek(), Kind::At) {
                        let at = self.span().start;
                        self.bump();
                        let attribute = self.attribute_body(at)?;
                        self.attrs.push(attribute);
                    }
                    let vattrs = take(&mut self.attrs, attrs_base);
                    let end = self.prev_end();
                    self.end_of_line(false)?;
                    values.push(EnumValue {
                        name: vname,
                        attributes: vattrs,
                        docs: value_docs,
                        span: Span { start: vstart, end },
                    });
                }
                _ => {
                    return self.err(format!(
                        "expected an enum value, found {}",
                        self.describe(self.cur)
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

    fn config(&mut self, docs: Vec<Name<'a>>) -> PResult<ConfigBlock<'a>> {
        let (name, _, start) = self.block_header("configuration block")?;
        let mut properties = Vec::new();
        loop {
            self.trivia();
            match self.peek() {
                Kind::RBrace => break,
                Kind::Eof => {
                    return self.err(format!("block `{name}` is not closed: expected `}}`"));
                }
                Kind::Word => {
                    let pstart = self.span().start;
                    let (pname, _) = self.ident("a property name")?;
                    let pname = Name::Borrowed(pname);
                    self.expect(Kind::Eq, "`=` after the property name")?;
                    if matches!(
                        self.peek(),
                        Kind::Newline | Kind::Comment | Kind::DocComment | Kind::Eof
                    ) {
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
                _ => {
                    return self.err(format!(
                        "expected `key = value`, found {}",
                        self.describe(self.cur)
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
