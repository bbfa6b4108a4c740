//! `wrun new` and `wrun build`: a job project in any of the four guest
//! languages, from the SDK's templates, and its build into a component
//! ready to submit. Both work from any folder: the SDKs and the build
//! scripts come from the copy installed by [`sdk::installed`], and builds
//! happen outside the project's folder.

mod compile;
mod sdk;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

/// A guest language with an SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lang {
    Rust,
    Python,
    Cpp,
    Java,
}

impl Lang {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Cpp => "cpp",
            Lang::Java => "java",
        }
    }
}

#[derive(Args)]
pub(crate) struct NewArgs {
    /// Name of the job (and of its folder): letters, digits, `-` and `_`.
    name: String,
    /// The job's language.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// Parent folder (default: the current one).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

#[derive(Args)]
pub(crate) struct BuildArgs {
    /// The job's folder (default: the current one); its language is found
    /// from what it holds (Cargo.toml, app.py, .cpp or .java files).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The fast development profile: Rust compiles the job at opt-level 1
    /// (its dependencies stay optimized), C++ at -O0; Python and Java have
    /// one profile, so this builds the same component as without it.
    #[arg(long)]
    dev: bool,
    /// Where to write the component (default: under the wrun cache, printed).
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub(crate) fn new_job(a: NewArgs) -> anyhow::Result<()> {
    let name = a.name.as_str();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        bail!("`{name}` is not a valid job name: use letters, digits, `-` and `_`, not starting with a digit");
    }
    let dest = a.dir.join(name);
    if dest.exists() {
        bail!(
            "{} already exists; pick another name or folder",
            dest.display()
        );
    }
    let sdk = sdk::installed()?;
    let files = templates(a.lang, name, &sdk)?;
    for (rel, text) in &files {
        let path = dest.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file in the project"))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "created the {} job {} ({})\nnext: wrun submit $(wrun build {}) Ada",
        a.lang.name(),
        dest.display(),
        files
            .iter()
            .map(|(rel, _)| rel.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        dest.display(),
    );
    Ok(())
}

/// The files of a new project (relative path, contents).
fn templates(lang: Lang, name: &str, sdk: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let read = |rel: &str| {
        std::fs::read_to_string(sdk.join(rel))
            .with_context(|| format!("reading the template {}", sdk.join(rel).display()))
    };
    let manifest = format!(
        "# The job's runtime environment (docs/runtime-env.md): what its guests may see\n\
         # and use. `wrun build` reads its [runtime] section; `wrun submit --env env.toml`\n\
         # applies the rest.\n[runtime]\nlanguage = \"{}\"\n",
        lang.name()
    );
    let mut files = match lang {
        Lang::Rust => vec![
            (
                "Cargo.toml".to_string(),
                read("guest-sdk/rust/template/Cargo.toml.tmpl")?
                    .replace("{{name}}", name)
                    .replace(
                        "{{sdk_path}}",
                        &sdk.join("guest-sdk/rust").display().to_string(),
                    ),
            ),
            (
                "src/lib.rs".to_string(),
                read("guest-sdk/rust/template/src/lib.rs")?,
            ),
        ],
        Lang::Python => vec![(
            "app.py".to_string(),
            read("runtimes/python/template/app.py")?,
        )],
        Lang::Cpp => vec![(
            "main.cpp".to_string(),
            read("runtimes/cpp/template/main.cpp")?,
        )],
        Lang::Java => {
            let class = java_class_name(name);
            vec![(
                format!("{class}.java"),
                read("runtimes/java/template/Job.java.tmpl")?.replace("{{class}}", &class),
            )]
        }
    };
    files.push(("env.toml".to_string(), manifest));
    Ok(files)
}

/// `my-job` → `MyJob`.
fn java_class_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) fn build_job(a: BuildArgs) -> anyhow::Result<()> {
    let dir = a
        .dir
        .canonicalize()
        .with_context(|| format!("{} is not a folder", a.dir.display()))?;
    let lang = detect(&dir)?;
    let out = compile::build(&dir, lang, a.dev, a.out.as_deref())?;
    println!("{}", out.display());
    Ok(())
}

/// The project's language, from what the folder holds, checked against
/// the `[runtime] language` its env.toml declares.
pub(crate) fn detect(dir: &Path) -> anyhow::Result<Lang> {
    let mut found = Vec::new();
    if dir.join("Cargo.toml").is_file() {
        found.push(Lang::Rust);
    }
    if dir.join("app.py").is_file() {
        found.push(Lang::Python);
    }
    let has = |ext: &str| -> bool {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == ext))
    };
    if has("cpp") {
        found.push(Lang::Cpp);
    }
    if has("java") || java_under(&dir.join("src")) {
        found.push(Lang::Java);
    }
    let declared = declared_language(dir)?;
    match (found.as_slice(), declared) {
        ([], _) => bail!(
            "{} holds no wrun job: expected Cargo.toml (rust), app.py (python), .cpp files (cpp) or .java files (java); create one with `wrun new NAME --lang rust|python|cpp|java`",
            dir.display()
        ),
        ([one], None) => Ok(*one),
        (_, Some(d)) if found.contains(&d) => Ok(d),
        ([one], Some(d)) => bail!(
            "{}: env.toml declares `language = \"{}\"`, but the folder holds a {} job; fix the manifest's runtime.language",
            dir.display(),
            d.name(),
            one.name()
        ),
        (many, _) => bail!(
            "{} holds jobs of several languages ({}); declare which in env.toml: [runtime] language = \"...\"",
            dir.display(),
            many.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn java_under(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            p.extension().is_some_and(|x| x == "java") || p.is_dir() && java_under(&p)
        })
}

/// `[runtime] language` of the project's env.toml, if it has one.
fn declared_language(dir: &Path) -> anyhow::Result<Option<Lang>> {
    let manifest = dir.join("env.toml");
    if !manifest.is_file() {
        return Ok(None);
    }
    let declared =
        wrun_env::Environment::declared_language(&manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(declared.map(|l| Lang::from_str(&l, true).expect("a checked language")))
}
