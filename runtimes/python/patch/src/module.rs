//! Rewrites the bindings module so that every byte list it lowers is freed.
//!
//! The module imports `env.wit_dylib_pop_list(cx, ty, retptr) -> len`. When
//! the runtime answers with a buffer of its own (`*retptr != 0`, which
//! componentize-py 0.25.1 does for `list<u8>` only, copying the Python
//! `bytes`), the module uses it as it is and never frees it; when it answers
//! with none, the module allocates the buffer itself and hands it to
//! `env.wit_dylib_dealloc_bytes(cx, ptr, size, align, defer = 1)`, which
//! frees it when the call ends. The rewrite adds one function that calls the
//! import and, for a buffer of the runtime's, makes that same deferred
//! `dealloc_bytes` call; every `call` of the import is pointed at it.
//!
//! The new function goes last in the function index space, so no other index
//! moves and every section but the function and code sections is copied as
//! it is (custom sections included: `dylink.0` stays first).

use anyhow::{bail, ensure, Context, Result};
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, Function, FunctionSection, MemArg, RawSection, ValType,
};
use wasmparser::{Parser, Payload, TypeRef};

/// The import whose byte-list buffers leak.
pub const POP_LIST: (&str, &str) = ("env", "wit_dylib_pop_list");
/// The import that frees a buffer when the current call ends.
pub const DEALLOC_BYTES: (&str, &str) = ("env", "wit_dylib_dealloc_bytes");

/// Where the two imports sit in a module's function index space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imports {
    pub pop_list: u32,
    pub pop_list_type: u32,
    pub dealloc_bytes: u32,
}

/// The two imports of `module`, or `None` when it does not import
/// `wit_dylib_pop_list` (it is not the bindings module).
pub fn find_imports(module: &[u8]) -> Result<Option<Imports>> {
    let mut funcs = 0u32;
    let mut pop_list = None;
    let mut dealloc_bytes = None;
    for payload in Parser::new(0).parse_all(module) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let TypeRef::Func(ty) = import.ty else {
                        continue;
                    };
                    let name = (import.module, import.name);
                    if name == POP_LIST {
                        pop_list = Some((funcs, ty));
                    } else if name == DEALLOC_BYTES {
                        dealloc_bytes = Some(funcs);
                    }
                    funcs += 1;
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    let Some((pop_list, pop_list_type)) = pop_list else {
        return Ok(None);
    };
    let dealloc_bytes = dealloc_bytes.with_context(|| {
        format!(
            "the module imports {}.{} but not {}.{}",
            POP_LIST.0, POP_LIST.1, DEALLOC_BYTES.0, DEALLOC_BYTES.1
        )
    })?;
    Ok(Some(Imports {
        pop_list,
        pop_list_type,
        dealloc_bytes,
    }))
}

/// Points the calls of `pop_list` at this function index instead.
struct Redirect {
    from: u32,
    to: u32,
}

impl Reencode for Redirect {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, ReencodeError<Self::Error>> {
        Ok(if func == self.from { self.to } else { func })
    }
}

/// `module` with the freeing function added and the import's calls redirected.
pub fn rewrite(module: &[u8], imports: Imports) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    let mut defined = 0u32;
    let mut imported = 0u32;
    let mut code: Option<CodeSection> = None;
    let mut saw_functions = false;
    let mut redirect = None;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload?;
        match &payload {
            Payload::Version { .. } | Payload::End(_) => {}
            Payload::ImportSection(reader) => {
                imported = reader
                    .clone()
                    .into_imports()
                    .filter(|i| matches!(i.as_ref().map(|i| i.ty), Ok(TypeRef::Func(_))))
                    .count() as u32;
                copy(&mut out, module, &payload);
            }
            Payload::FunctionSection(reader) => {
                let mut functions = FunctionSection::new();
                for ty in reader.clone() {
                    functions.function(ty?);
                    defined += 1;
                }
                functions.function(imports.pop_list_type);
                out.section(&functions);
                saw_functions = true;
                redirect = Some(Redirect {
                    from: imports.pop_list,
                    to: imported + defined,
                });
            }
            Payload::CodeSectionStart { .. } => code = Some(CodeSection::new()),
            Payload::CodeSectionEntry(body) => {
                let (Some(code), Some(redirect)) = (code.as_mut(), redirect.as_mut()) else {
                    bail!("a function body before the function section");
                };
                redirect
                    .parse_function_body(code, body.clone())
                    .map_err(reencode_error)?;
                if code.len() == defined {
                    code.function(&freeing_pop_list(imports));
                    out.section(&*code);
                }
            }
            _ => copy(&mut out, module, &payload),
        }
    }
    ensure!(
        saw_functions && code.is_some(),
        "the module defines no functions to patch"
    );
    let bytes = out.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .context("the patched bindings module does not validate")?;
    Ok(bytes)
}

/// Copies a section of `module` as it is.
fn copy(out: &mut wasm_encoder::Module, module: &[u8], payload: &Payload<'_>) {
    if let Some((id, range)) = payload.as_section() {
        out.section(&RawSection {
            id,
            data: &module[byte_range(range)],
        });
    }
}

/// A range wasmparser gives (u64 offsets) as one that indexes bytes held in
/// memory, which are fewer than `usize::MAX`.
pub fn byte_range(range: std::ops::Range<u64>) -> std::ops::Range<usize> {
    range.start as usize..range.end as usize
}

fn reencode_error(e: ReencodeError<std::convert::Infallible>) -> anyhow::Error {
    anyhow::anyhow!("re-encoding a function body: {e}")
}

/// `(cx, ty, retptr) -> len`: the import's answer, with a buffer of the
/// runtime's handed to the deferred free of the current call.
fn freeing_pop_list(imports: Imports) -> Function {
    const CX: u32 = 0;
    const TY: u32 = 1;
    const RETPTR: u32 = 2;
    const LEN: u32 = 3;
    const PTR: u32 = 4;
    let mut f = Function::new([(2, ValType::I32)]);
    let word = MemArg {
        offset: 0,
        align: 2,
        memory_index: 0,
    };
    f.instructions()
        .local_get(CX)
        .local_get(TY)
        .local_get(RETPTR)
        .call(imports.pop_list)
        .local_set(LEN)
        .local_get(RETPTR)
        .i32_load(word)
        .local_tee(PTR)
        .if_(BlockType::Empty)
        .local_get(CX)
        .local_get(PTR)
        .local_get(LEN)
        .i32_const(1) // align: a byte list
        .i32_const(1) // defer: free when the call ends
        .call(imports.dealloc_bytes)
        .end()
        .local_get(LEN)
        .end();
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        EntityType, ExportKind, ExportSection, FunctionSection, ImportSection, MemoryType, Module,
        TypeSection,
    };
    use wasmtime::{Caller, Engine, Linker, Memory, Store};

    /// A bindings module in miniature: it imports the memory and the two
    /// functions, and exports `lower(retptr) -> len`, which pops a list as
    /// the real bindings do.
    fn bindings() -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32; 3], [ValType::I32]);
        types.ty().function([ValType::I32; 5], []);
        types.ty().function([ValType::I32], [ValType::I32]);
        let mut imports = ImportSection::new();
        let memory = MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        };
        imports.import("env", "memory", EntityType::Memory(memory));
        imports.import("env", "wit_dylib_pop_list", EntityType::Function(0));
        imports.import("env", "wit_dylib_dealloc_bytes", EntityType::Function(1));
        let mut functions = FunctionSection::new();
        functions.function(2);
        let mut exports = ExportSection::new();
        exports.export("lower", ExportKind::Func, 2);
        let mut code = CodeSection::new();
        let mut lower = Function::new([]);
        lower
            .instructions()
            .i32_const(7)
            .i32_const(0)
            .local_get(0)
            .call(0)
            .end();
        code.function(&lower);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&exports)
            .section(&code);
        module.finish()
    }

    /// Runs `lower` with a runtime that answers with `buffer` (0: none) and
    /// returns the `dealloc_bytes` calls it saw.
    fn lower(module: &[u8], buffer: i32) -> (i32, Vec<[i32; 5]>) {
        let engine = Engine::default();
        let module = wasmtime::Module::new(&engine, module).unwrap();
        let mut store = Store::new(&engine, Vec::<[i32; 5]>::new());
        let memory = Memory::new(&mut store, wasmtime::MemoryType::new(1, None)).unwrap();
        let mut linker = Linker::new(&engine);
        linker.define(&store, "env", "memory", memory).unwrap();
        linker
            .func_wrap(
                "env",
                "wit_dylib_pop_list",
                move |mut caller: Caller<'_, Vec<[i32; 5]>>, _cx: i32, _ty: i32, retptr: i32| {
                    memory
                        .write(&mut caller, retptr as usize, &buffer.to_le_bytes())
                        .unwrap();
                    11i32
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "wit_dylib_dealloc_bytes",
                |mut caller: Caller<'_, Vec<[i32; 5]>>,
                 cx: i32,
                 ptr: i32,
                 size: i32,
                 align: i32,
                 defer: i32| {
                    caller.data_mut().push([cx, ptr, size, align, defer]);
                },
            )
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let lower = instance
            .get_typed_func::<i32, i32>(&mut store, "lower")
            .unwrap();
        let len = lower.call(&mut store, 64).unwrap();
        (len, store.into_data())
    }

    #[test]
    fn finds_the_imports_of_the_bindings_module() {
        let imports = find_imports(&bindings()).unwrap().unwrap();
        assert_eq!(
            imports,
            Imports {
                pop_list: 0,
                pop_list_type: 0,
                dealloc_bytes: 1
            }
        );
    }

    #[test]
    fn the_unpatched_module_leaks_the_runtimes_buffer() {
        assert_eq!(lower(&bindings(), 4096), (11, vec![]));
    }

    #[test]
    fn a_buffer_of_the_runtimes_is_freed_when_the_call_ends() {
        let module = bindings();
        let patched = rewrite(&module, find_imports(&module).unwrap().unwrap()).unwrap();
        assert_eq!(lower(&patched, 4096), (11, vec![[7, 4096, 11, 1, 1]]));
    }

    #[test]
    fn no_buffer_means_nothing_to_free() {
        let module = bindings();
        let patched = rewrite(&module, find_imports(&module).unwrap().unwrap()).unwrap();
        assert_eq!(lower(&patched, 0), (11, vec![]));
    }

    #[test]
    fn a_module_without_the_import_is_not_the_bindings_module() {
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut module = Module::new();
        module.section(&types);
        assert_eq!(find_imports(&module.finish()).unwrap(), None);
    }
}
