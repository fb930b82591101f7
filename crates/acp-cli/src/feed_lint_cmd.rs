//! `acp feed lint [--json] FILE|-`: the agent-readiness linter of
//! `agentic_commerce::rules::feed_readiness` on a feed file or standard input.
//!
//! Input, detected from its first non-blank line:
//! * a JSON object with `products` (a `ProductsResponse` or `UpsertProductsRequest`, on one
//!   line or pretty-printed): read whole; product `i` is linted at `$.products[i]`;
//! * JSON Lines, one `feed.Product` per line: read line by line in constant memory (apart
//!   from the linter's id set); each product is linted at `$`, and reported with its line
//!   number. Blank lines are skipped.
//!
//! A product that does not parse as `feed.Product` is one `SCHEMA` error finding (at the
//! JSONPath of the failing value) and linting goes on. Exit codes: 0 no error finding, 1 some
//! error finding, 2 usage error or unreadable input (missing file, not JSON, no `products`).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;

use agentic_commerce::parse;
use agentic_commerce::parse::feed_files::{FeedFileError, ProductsReader};
use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::rules::feed_readiness::{
    CatalogLinter, CatalogSummary, LintFinding, ProductReport, readiness_rule,
};
use agentic_commerce::spec::v2026_04_17::feed::Product;
use serde_json::value::RawValue;

/// Flags of `acp feed lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Print one JSON document `{"products": [...], "summary": {...}}` (the README documents
    /// its shape) instead of text.
    #[arg(long)]
    json: bool,
    /// The feed file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    file: String,
}

/// A `ProductsResponse` or `UpsertProductsRequest`: the products kept as raw JSON so that each
/// is parsed, and fails, on its own.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    products: Vec<&'a RawValue>,
}

/// Why the input cannot be linted (exit 2), or a failed write to standard output.
enum Failure {
    Input(String),
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::Output(e)
    }
}

/// `acp feed lint`.
pub(crate) fn lint(args: &LintArgs) -> ExitCode {
    let reader: Box<dyn BufRead> = if args.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match File::open(&args.file) {
            Ok(file) => Box::new(BufReader::with_capacity(1 << 16, file)),
            Err(e) => return crate::usage_error(&format!("cannot read {}: {e}", args.file)),
        }
    };
    let stdout = std::io::stdout().lock();
    let mut printer = Printer {
        out: BufWriter::with_capacity(1 << 16, stdout),
        json: args.json,
        first: true,
    };
    let mut linter = CatalogLinter::new();
    match run(reader, &mut linter, &mut printer).and_then(|()| {
        printer.finish(&linter.summary())?;
        Ok(printer.out.flush()?)
    }) {
        Ok(()) if linter.has_errors() => ExitCode::from(1),
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            // What was linted before the failure is already printed (and flushed here).
            let _ = printer.out.flush();
            crate::usage_error(&message)
        }
        Err(Failure::Output(e)) => {
            eprintln!("acp: cannot write the report: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(
    mut reader: Box<dyn BufRead>,
    linter: &mut CatalogLinter,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let mut line = Vec::new();
    let mut number = 0_u64;
    let read = |reader: &mut Box<dyn BufRead>, line: &mut Vec<u8>| {
        line.clear();
        reader
            .read_until(b'\n', line)
            .map_err(|e| Failure::Input(format!("cannot read the input: {e}")))
    };
    // The first non-blank line decides the format.
    loop {
        if read(&mut reader, &mut line)? == 0 {
            return Ok(()); // empty input: an empty catalog
        }
        number += 1;
        if !line.trim_ascii().is_empty() {
            break;
        }
    }
    match serde_json::from_slice::<serde_json::Value>(&line) {
        Ok(value) if value.get("products").is_some() => {
            // A one-line envelope: nothing but blank lines may follow.
            let mut rest = Vec::new();
            while read(&mut reader, &mut rest)? > 0 {
                if !rest.trim_ascii().is_empty() {
                    return Err(Failure::Input(
                        "a ProductsResponse line is followed by more input; JSONL takes one \
                         product per line"
                            .into(),
                    ));
                }
            }
            lint_envelope(&line, linter, printer)
        }
        Ok(serde_json::Value::Object(_)) => {
            // JSON Lines: the shared reader (one product per line, each line bounded), from
            // the first product line on; its line numbers start after the blank lines skipped.
            let skipped = number - 1;
            let rest = std::io::Cursor::new(std::mem::take(&mut line)).chain(reader);
            let mut products = ProductsReader::new(rest);
            while let Some(item) = products.next() {
                let number = u64::try_from(products.line_number()).unwrap_or(u64::MAX) + skipped;
                let report = match item {
                    Ok(product) => linter.push(&product, &JsonPath::root()),
                    Err(FeedFileError::Io { source, .. }) => {
                        return Err(Failure::Input(format!("cannot read the input: {source}")));
                    }
                    Err(FeedFileError::Product { error, .. }) => {
                        let first = error.violations().into_iter().next();
                        let (path, message) = first.map_or_else(
                            || (JsonPath::root(), error.to_string()),
                            |v| (v.path, v.message),
                        );
                        linter.push_invalid(path, message)
                    }
                    Err(other) => linter.push_invalid(JsonPath::root(), other.to_string()),
                };
                let index =
                    usize::try_from(linter.products().saturating_sub(1)).unwrap_or(usize::MAX);
                printer.product(&report, index, Some(number))?;
            }
            Ok(())
        }
        Ok(_) => Err(Failure::Input(format!(
            "line {number} is neither a feed product nor an object with `products`"
        ))),
        Err(_) => {
            // A pretty-printed envelope: its first line is not JSON on its own.
            let mut all = std::mem::take(&mut line);
            reader
                .read_to_end(&mut all)
                .map_err(|e| Failure::Input(format!("cannot read the input: {e}")))?;
            lint_envelope(&all, linter, printer)
        }
    }
}

fn lint_envelope(
    bytes: &[u8],
    linter: &mut CatalogLinter,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let envelope: Envelope<'_> = serde_json::from_slice(bytes).map_err(|e| {
        Failure::Input(format!(
            "the input is neither JSON Lines of products nor a JSON object with a `products` \
             array: {e}"
        ))
    })?;
    for (i, raw) in envelope.products.iter().enumerate() {
        let root = JsonPath::root().key("products").index(i);
        let report = match parse::from_str::<Product>(raw.get()) {
            Ok(product) => linter.push(&product, &root),
            Err(e) => linter.push_invalid(join(&root, &e.path), e.message.clone()),
        };
        printer.product(&report, i, None)?;
    }
    Ok(())
}

fn join(root: &JsonPath, path: &JsonPath) -> JsonPath {
    let mut joined = root.clone();
    for segment in path.segments() {
        joined.push(segment.clone());
    }
    joined
}

/// Writes each product's report as it comes, then the summary.
struct Printer {
    out: BufWriter<std::io::StdoutLock<'static>>,
    json: bool,
    first: bool,
}

impl Printer {
    fn product(
        &mut self,
        report: &ProductReport,
        index: usize,
        line: Option<u64>,
    ) -> Result<(), Failure> {
        if self.json {
            let mut entry = serde_json::json!({
                "index": index,
                "id": report.id,
                "param": report.param,
                "score": report.score,
                "satisfied_weight": report.satisfied_weight,
                "applicable_weight": report.applicable_weight,
                "findings": report.findings,
            });
            if let (Some(line), Some(object)) = (line, entry.as_object_mut()) {
                object.insert("line".into(), line.into());
            }
            let prefix = if self.first {
                "{\"products\":[\n"
            } else {
                ",\n"
            };
            self.first = false;
            self.out.write_all(prefix.as_bytes())?;
            serde_json::to_writer(&mut self.out, &entry).map_err(std::io::Error::from)?;
            return Ok(());
        }
        if report.findings.is_empty() {
            return Ok(());
        }
        let id = report.id.as_deref().unwrap_or("(invalid product)");
        let at = line.map_or_else(|| report.param.to_string(), |n| format!("line {n}"));
        writeln!(self.out, "{id} ({at}): score {}", percent(report.score))?;
        for finding in &report.findings {
            write_finding(&mut self.out, finding)?;
        }
        Ok(())
    }

    fn finish(&mut self, summary: &CatalogSummary) -> Result<(), Failure> {
        if self.json {
            let head = if self.first { "{\"products\":[" } else { "\n" };
            self.out.write_all(head.as_bytes())?;
            self.out.write_all(b"],\n\"summary\":")?;
            serde_json::to_writer(&mut self.out, summary).map_err(std::io::Error::from)?;
            self.out.write_all(b"}\n")?;
            return Ok(());
        }
        if summary.errors + summary.warnings + summary.infos > 0 {
            writeln!(self.out)?;
        }
        writeln!(
            self.out,
            "catalog: {} products ({} invalid), {} variants: score {} ({:.1} of {} weight)",
            summary.products,
            summary.invalid_products,
            summary.variants,
            percent(summary.score),
            summary.satisfied_weight,
            summary.applicable_weight
        )?;
        writeln!(
            self.out,
            "findings: {} errors, {} warnings, {} infos",
            summary.errors, summary.warnings, summary.infos
        )?;
        let failing: Vec<_> = summary
            .rules
            .iter()
            .filter(|r| r.products_failing > 0)
            .collect();
        if !failing.is_empty() {
            writeln!(self.out, "rules not met (products, findings):")?;
        }
        for rule in failing {
            let text = readiness_rule(rule.rule).map_or("", |r| r.text);
            writeln!(
                self.out,
                "  {} {:<7} weight {}  {:>6} products {:>6} findings  {text}",
                rule.rule,
                rule.severity.as_str(),
                rule.weight,
                rule.products_failing,
                rule.findings
            )?;
        }
        Ok(())
    }
}

fn write_finding(out: &mut impl Write, finding: &LintFinding) -> std::io::Result<()> {
    writeln!(
        out,
        "  {:<7} {} {}: {}",
        finding.severity.as_str(),
        finding.rule,
        finding.param,
        finding.message
    )?;
    writeln!(out, "          fix: {}", finding.fix)
}

fn percent(score: f64) -> String {
    format!("{:.1}%", score * 100.0)
}
