//! `acp feed export` and `acp feed import` (`acp feed lint` is in `feed_lint_cmd`): the offline product feed format (`metadata.json` +
//! `products.jsonl`, RFC product feeds §3.4) to and from a `ProductsResponse` document, both
//! streamed so a catalog of any size runs in memory bounded by its largest product.
//!
//! Exit codes: 0 done; 1 the input is not a valid feed (the message on stderr names the file,
//! the line and the JSONPath); 2 usage error or a file that cannot be read or written.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentic_commerce::parse::feed_files::{
    self, DEFAULT_MAX_LINE_BYTES, FeedFileError, METADATA_FILE, Mode, PRODUCTS_FILE,
    ProductsReader, ProductsResponseWriter, ProductsWriter,
};
use agentic_commerce::spec::latest::feed::FeedMetadata;

/// Buffer size for the streamed files: large enough that a product is rarely split across
/// system calls.
const IO_BUFFER: usize = 256 * 1024;

/// Flags of `acp feed`.
#[derive(Debug, clap::Args)]
pub(crate) struct FeedArgs {
    #[command(subcommand)]
    command: FeedCommand,
}

/// The `acp feed` subcommands.
#[derive(Debug, clap::Subcommand)]
enum FeedCommand {
    /// Write a `ProductsResponse` JSON document as an offline feed snapshot: DIR/metadata.json
    /// and DIR/products.jsonl (streamed).
    Export(ExportArgs),
    /// Read an offline feed snapshot (DIR/metadata.json and DIR/products.jsonl) and write it
    /// as one `ProductsResponse` JSON document (streamed).
    Import(ImportArgs),
    /// Agent readiness of a feed (`ProductsResponse`, `UpsertProductsRequest` or JSONL of
    /// products): findings per product and variant, scores; exit 1 on any error finding, 2 on
    /// unreadable input.
    Lint(crate::feed_lint_cmd::LintArgs),
    /// Write a synthetic `ProductsResponse` with N products (benchmark input; see PERFORMANCE.md).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// Flags of `acp feed export`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("meta").required(true).args(["metadata", "feed_id"])))]
struct ExportArgs {
    /// The `ProductsResponse` JSON file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    input: String,
    /// The snapshot directory (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// A `FeedMetadata` JSON file to write as metadata.json.
    #[arg(long, value_name = "FILE")]
    metadata: Option<PathBuf>,
    /// The feed id for metadata.json (instead of `--metadata`).
    #[arg(long, value_name = "ID")]
    feed_id: Option<String>,
    /// metadata.json `target_country` (ISO 3166-1 alpha-2), with `--feed-id`.
    #[arg(long, value_name = "CC", requires = "feed_id")]
    target_country: Option<String>,
    /// metadata.json `updated_at` (RFC 3339), with `--feed-id`.
    #[arg(long, value_name = "RFC3339", requires = "feed_id")]
    updated_at: Option<String>,
    /// Validate the document and the metadata against the official schema.
    #[arg(long)]
    strict: bool,
}

/// Flags of `acp feed import`.
#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The snapshot directory holding metadata.json and products.jsonl.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to write the `ProductsResponse` JSON: a file, or `-` for standard output.
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    out: String,
    /// Validate each product and the metadata against the official schema; blank lines are
    /// errors.
    #[arg(long)]
    strict: bool,
    /// The longest accepted products.jsonl line, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES,
          value_parser = clap::value_parser!(usize))]
    max_line_bytes: usize,
}

/// Flags of the hidden `acp feed generate`.
#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// How many products.
    #[arg(long, value_name = "N")]
    products: u64,
    /// Variants per product.
    #[arg(long, value_name = "N", default_value_t = 3)]
    variants: u32,
}

/// A failed command: its exit code and message.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// I/O failures are exit 2, bad content exit 1.
    fn from_feed(error: &FeedFileError) -> Self {
        let message = match error.path() {
            Some(path) if !error.to_string().contains(&path.to_string()) => {
                format!("{error} (param {path})")
            }
            _ => error.to_string(),
        };
        match error {
            FeedFileError::Io { .. } => Self::usage(message),
            _ => Self::invalid(message),
        }
    }
}

/// `acp feed <subcommand>`.
pub(crate) fn feed(args: &FeedArgs) -> ExitCode {
    let result = match &args.command {
        FeedCommand::Lint(lint) => return crate::feed_lint_cmd::lint(lint),
        FeedCommand::Export(args) => export(args),
        FeedCommand::Import(args) => import(args),
        FeedCommand::Generate(args) => generate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("acp: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn mode(strict: bool) -> Mode {
    if strict { Mode::Strict } else { Mode::Lenient }
}

fn export(args: &ExportArgs) -> Result<(), Failure> {
    let mode = mode(args.strict);
    let metadata = export_metadata(args, mode)?;
    fs::create_dir_all(&args.out)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", args.out.display())))?;

    // Both files are written under temporary names and renamed at the end, so a failed export
    // never leaves a snapshot that looks complete.
    let products_tmp = args.out.join(format!(".{PRODUCTS_FILE}.tmp"));
    let file = create(&products_tmp)?;
    let mut writer = ProductsWriter::new(BufWriter::with_capacity(IO_BUFFER, file));
    let streamed = with_input(&args.input, |reader| {
        feed_files::stream_products_response(reader, mode, |product| writer.write(&product))
    });
    let outcome = match streamed {
        Err(failure) => Err(failure),
        Ok(Err(error)) => Err(Failure::from_feed(&error)),
        Ok(Ok(extra)) => match extra.iter().next() {
            // Lenient parsing keeps unknown members, but the snapshot has nowhere to put a
            // top-level one: dropping it silently would make the export lossy.
            Some((key, _)) => Err(Failure::invalid(format!(
                "ProductsResponse member `$.{key}` has no place in the offline format \
                 ({METADATA_FILE} holds FeedMetadata, {PRODUCTS_FILE} only products)"
            ))),
            None => Ok(()),
        },
    };
    let count = writer.written();
    let finished = outcome.and_then(|()| {
        writer
            .finish()
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", products_tmp.display())))
    });
    if let Err(failure) = finished {
        // Best effort: the temporary file is ours and useless after a failure.
        let _ = fs::remove_file(&products_tmp);
        return Err(failure);
    }

    let metadata_tmp = args.out.join(format!(".{METADATA_FILE}.tmp"));
    let file = create(&metadata_tmp)?;
    feed_files::write_metadata(BufWriter::new(file), &metadata)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", metadata_tmp.display())))?;
    rename(&products_tmp, &args.out.join(PRODUCTS_FILE))?;
    rename(&metadata_tmp, &args.out.join(METADATA_FILE))?;
    eprintln!(
        "acp: feed {}: {count} products written to {}",
        metadata.id,
        args.out.display()
    );
    Ok(())
}

/// metadata.json from `--metadata FILE`, or built from `--feed-id` and its companions; parsed
/// like any metadata file so the same rules apply to both.
fn export_metadata(args: &ExportArgs, mode: Mode) -> Result<FeedMetadata, Failure> {
    let bytes = if let Some(path) = &args.metadata {
        fs::read(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?
    } else {
        let mut object = serde_json::Map::new();
        object.insert(
            "id".to_owned(),
            args.feed_id.clone().unwrap_or_default().into(),
        );
        if let Some(country) = &args.target_country {
            object.insert("target_country".to_owned(), country.clone().into());
        }
        if let Some(updated) = &args.updated_at {
            object.insert("updated_at".to_owned(), updated.clone().into());
        }
        serde_json::to_vec(&object).map_err(|e| Failure::usage(e.to_string()))?
    };
    feed_files::read_metadata(bytes.as_slice(), mode).map_err(|e| Failure::from_feed(&e))
}

fn import(args: &ImportArgs) -> Result<(), Failure> {
    let mode = mode(args.strict);
    let metadata_path = args.dir.join(METADATA_FILE);
    let metadata = feed_files::read_metadata(open(&metadata_path)?, mode)
        .map_err(|e| Failure::from_feed(&e))?;
    let products_path = args.dir.join(PRODUCTS_FILE);
    let products = BufReader::with_capacity(IO_BUFFER, open(&products_path)?);
    let reader = ProductsReader::new(products)
        .mode(mode)
        .max_line_bytes(args.max_line_bytes);

    let count = if args.out == "-" {
        let stdout = io::stdout();
        copy_products(
            reader,
            BufWriter::with_capacity(IO_BUFFER, stdout.lock()),
            "stdout",
        )?
    } else {
        let out = PathBuf::from(&args.out);
        let tmp = sibling_tmp(&out);
        let file = create(&tmp)?;
        let copied = copy_products(
            reader,
            BufWriter::with_capacity(IO_BUFFER, file),
            &out.display().to_string(),
        );
        match copied {
            Ok(count) => {
                rename(&tmp, &out)?;
                count
            }
            Err(failure) => {
                // Best effort: the temporary file is ours and useless after a failure.
                let _ = fs::remove_file(&tmp);
                return Err(failure);
            }
        }
    };
    eprintln!("acp: feed {}: {count} products read", metadata.id);
    Ok(())
}

/// Streams the products of `reader` into a `ProductsResponse` on `out`, one at a time.
fn copy_products<R: BufRead, W: Write>(
    reader: ProductsReader<R>,
    out: W,
    name: &str,
) -> Result<u64, Failure> {
    let write_failed = |e: io::Error| Failure::usage(format!("cannot write {name}: {e}"));
    let mut writer = ProductsResponseWriter::new(out).map_err(write_failed)?;
    for product in reader {
        let product = product.map_err(|e| Failure::from_feed(&e))?;
        writer.write(&product).map_err(write_failed)?;
    }
    let count = writer.written();
    let mut out = writer.finish().map_err(write_failed)?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(write_failed)?;
    Ok(count)
}

/// Runs `f` over the input file or standard input, buffered.
fn with_input<T>(input: &str, f: impl FnOnce(&mut dyn io::Read) -> T) -> Result<T, Failure> {
    if input == "-" {
        let stdin = io::stdin();
        let mut lock = BufReader::with_capacity(IO_BUFFER, stdin.lock());
        Ok(f(&mut lock))
    } else {
        let mut reader = BufReader::with_capacity(IO_BUFFER, open(Path::new(input))?);
        Ok(f(&mut reader))
    }
}

fn open(path: &Path) -> Result<File, Failure> {
    File::open(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

fn create(path: &Path) -> Result<File, Failure> {
    File::create(path).map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
}

fn rename(from: &Path, to: &Path) -> Result<(), Failure> {
    fs::rename(from, to).map_err(|e| Failure::usage(format!("cannot write {}: {e}", to.display())))
}

/// `dir/.name.tmp` next to `path`, so the final rename stays on one file system.
fn sibling_tmp(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

/// The hidden benchmark generator: a `ProductsResponse` of realistic products (the official
/// example's fields: description, URL, media, barcodes, prices, availability, options, seller)
/// written one product at a time, deterministic for a given N.
fn generate(args: &GenerateArgs) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(IO_BUFFER, stdout.lock());
    let write_failed = |e: io::Error| Failure::usage(format!("cannot write stdout: {e}"));
    out.write_all(br#"{"products":["#).map_err(write_failed)?;
    for n in 0..args.products {
        if n > 0 {
            out.write_all(b",").map_err(write_failed)?;
        }
        write!(
            out,
            r#"{{"id":"prod_{n:08}","title":"Classic Tee {n}","description":{{"plain":"A classic cotton tee with a soft feel and relaxed fit, style {n}."}},"url":"https://merchant.example/products/{n:08}","media":[{{"type":"image","url":"https://cdn.merchant.example/products/{n:08}/main.jpg","alt_text":"Classic Tee {n} front view"}}],"variants":["#
        )
        .map_err(write_failed)?;
        for v in 0..args.variants {
            let color = pick(COLORS, n + u64::from(v));
            let size = pick(SIZES, u64::from(v));
            let available = (n + u64::from(v)) % 7 != 0;
            let status = if available {
                "in_stock"
            } else {
                "out_of_stock"
            };
            let amount = 999 + (n % 50) * 100 + u64::from(v) * 50;
            if v > 0 {
                out.write_all(b",").map_err(write_failed)?;
            }
            write!(
                out,
                r#"{{"id":"sku_{n:08}_{v}","title":"Classic Tee {n} - {color} / {size}","url":"https://merchant.example/products/{n:08}?variant={v}","barcodes":[{{"type":"GTIN","value":"{gtin:014}"}}],"price":{{"amount":{amount},"currency":"USD"}},"list_price":{{"amount":{list},"currency":"USD"}},"availability":{{"available":{available},"status":"{status}"}},"categories":[{{"value":"Apparel > Shirts > T-Shirts"}}],"variant_options":[{{"name":"Color","value":"{color}"}},{{"name":"Size","value":"{size}"}}],"seller":{{"name":"Example Merchant"}}}}"#,
                gtin = n * 10 + u64::from(v),
                list = amount + 500,
            )
            .map_err(write_failed)?;
        }
        out.write_all(b"]}").map_err(write_failed)?;
    }
    out.write_all(b"]}\n")
        .and_then(|()| out.flush())
        .map_err(write_failed)
}

const COLORS: &[&str] = &["Red", "Black", "Pine", "Sand", "Navy"];
const SIZES: &[&str] = &["Small", "Medium", "Large", "XL"];

/// The `k`-th entry of `list`, cycling.
fn pick(list: &[&'static str], k: u64) -> &'static str {
    let len = u64::try_from(list.len()).unwrap_or(1).max(1);
    usize::try_from(k % len)
        .ok()
        .and_then(|i| list.get(i))
        .copied()
        .unwrap_or_default()
}
