//! `mannequin products …`: a shop's product photos from a terminal: upload
//! one, list them, delete one.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client::{Api, ApiArgs};
use mannequin::error::BoxError;

#[derive(Debug, Args)]
pub struct ProductArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(subcommand)]
    pub command: ProductCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Upload a photo (PNG, JPEG or WebP, up to 20 MB): it is turned upright
    /// and its metadata (GPS included) removed before it is stored.
    Upload {
        file: PathBuf,
        /// The product's name; the file's name without its extension when
        /// not given.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the account's products, newest first.
    List {
        /// How many to show (follows pages as needed).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Delete a product: it leaves the list; what was made from it stays.
    Delete { id: String },
}

/// A `multipart/form-data` body holding `file` as `image` and `name`.
fn form(file_name: &str, bytes: &[u8], name: Option<&str>) -> (String, Vec<u8>) {
    let boundary = format!(
        "mannequin-{}",
        mannequin::clock::random_string(mannequin_domain::ids::LOWER36, 24)
    );
    let mut body = Vec::with_capacity(bytes.len() + 512);
    if let Some(name) = name {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n"
            )
            .as_bytes(),
        );
    }
    // The file's name as a quoted string: its quotes and line breaks dropped.
    let quoted: String = file_name
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{quoted}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn print_table(products: &[Value]) {
    println!("{:<32}  {:<32}  {:>11}  THUMBNAIL", "ID", "NAME", "SIZE");
    for p in products {
        println!(
            "{:<32}  {:<32}  {:>11}  {}",
            p["id"].as_str().unwrap_or(""),
            p["name"].as_str().unwrap_or(""),
            format!("{}×{}", p["width"], p["height"]),
            p["thumbnail"].as_str().unwrap_or("-")
        );
    }
}

pub async fn run(args: ProductArgs) -> Result<(), BoxError> {
    let api = Api::new(&args.api, "products")?;
    match args.command {
        ProductCommand::Upload { file, name } => {
            let bytes = tokio::fs::read(&file)
                .await
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (content_type, body) = form(&file_name, &bytes, name.as_deref());
            let product = api
                .call(
                    api.client
                        .post(format!("{}/api/external/products", api.url))
                        .header("content-type", content_type)
                        .body(body),
                )
                .await?;
            if args.api.json {
                println!("{product}");
            } else {
                print_table(&[product]);
            }
        }
        ProductCommand::List { limit } => {
            let mut products = Vec::new();
            let mut cursor: Option<String> = None;
            while products.len() < limit as usize {
                let mut query = vec![(
                    "limit",
                    (limit as usize - products.len()).min(1000).to_string(),
                )];
                if let Some(c) = &cursor {
                    query.push(("cursor", c.clone()));
                }
                let page = api.page(&query).await?;
                products.extend(page["products"].as_array().cloned().unwrap_or_default());
                match page["nextCursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            if args.api.json {
                println!("{}", json!({"products": products, "count": products.len()}));
            } else if products.is_empty() {
                println!("No products yet: upload one with 'mannequin products upload FILE'.");
            } else {
                print_table(&products);
            }
        }
        ProductCommand::Delete { id } => {
            let deleted = api
                .call(
                    api.client
                        .delete(format!("{}/api/external/products/{id}", api.url)),
                )
                .await?;
            println!("{deleted}");
        }
    }
    Ok(())
}
