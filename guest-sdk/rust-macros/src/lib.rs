//! Attribute macros of the wrun Rust guest SDK: `#[wrun::task]` and
//! `#[wrun::actor]`. Use them through the `wrun` crate, which re-exports them;
//! the generated code names `::wrun`.

mod actor;
mod streaming;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{
    parse_quote, FnArg, GenericArgument, Ident, ItemFn, LitInt, Pat, PathArguments, ReturnType,
    Signature, Type,
};

/// Marks a function as a remote task.
///
/// `#[wrun::task]`, `#[wrun::task(num_returns = N)]`, or
/// `#[wrun::task(streaming)]` on a fn returning `impl Iterator<Item = T>`
/// (each item is yielded to the caller as it comes). Keeps the function
/// callable locally and adds a same-named type with `remote(..)` and
/// `options()`; list it in `wrun::export_job!(tasks = [..])`.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(task_impl(attr.into(), item.into()))
}

/// Marks an `impl` block as an actor class.
///
/// The constructor is the fn named `new`, or else the first fn without a
/// receiver returning `Self` (or `Result<Self, E>`); remote methods are the
/// `pub` fns taking `&self` or `&mut self` (`#[streaming]` on one that
/// returns an iterator makes it a streaming method). Generates `<Class>Handle`,
/// `<Class>::remote(..)` and `<Class>::options()`.
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(actor::actor_impl(attr.into(), item.into()))
}

fn expand(r: syn::Result<TokenStream2>) -> TokenStream {
    match r {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// One parameter of a task, method or constructor.
pub(crate) struct Param {
    ident: Ident,
    ty: Type,
    mutable: bool,
}

fn params(sig: &Signature) -> syn::Result<Vec<Param>> {
    let mut out = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        let (ident, mutable) = match &*pt.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                (p.ident.clone(), p.mutability.is_some())
            }
            _ => (format_ident!("__wrun_arg{}", i), false),
        };
        if let Type::Reference(r) = &*pt.ty {
            return Err(syn::Error::new(
                r.span(),
                "wrun: parameters must be owned types (e.g. String, not &str)",
            ));
        }
        out.push(Param {
            ident,
            ty: (*pt.ty).clone(),
            mutable,
        });
    }
    Ok(out)
}

/// `Some(T)` when `ty` is `Result<T, ..>` (any path ending in `Result`).
pub(crate) fn result_ok(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// What a task or method returns.
struct Ret {
    is_result: bool,
    /// One type per return value.
    elems: Vec<Type>,
}

fn returns(sig: &Signature, num_returns: u32) -> syn::Result<Ret> {
    let ty: Type = match &sig.output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, t) => (**t).clone(),
    };
    let (is_result, ok) = match result_ok(&ty) {
        Some(ok) => (true, ok),
        None => (false, ty),
    };
    let elems = match num_returns {
        0 => Vec::new(),
        1 => vec![ok],
        n => match &ok {
            Type::Tuple(t) if t.elems.len() == n as usize => t.elems.iter().cloned().collect(),
            _ => {
                return Err(syn::Error::new(
                    sig.output.span(),
                    format!(
                        "wrun: num_returns = {n} needs a tuple of {n} elements as the return type"
                    ),
                ))
            }
        },
    };
    Ok(Ret { is_result, elems })
}

/// The remote-side return type: `()`, `ObjectRef<T>` or a tuple of them.
fn remote_ret(ret: &Ret) -> TokenStream2 {
    let refs: Vec<_> = ret
        .elems
        .iter()
        .map(|t| quote!(::wrun::ObjectRef<#t>))
        .collect();
    match refs.len() {
        1 => refs[0].clone(),
        _ => quote!((#(#refs,)*)),
    }
}

/// Turns the refs a call returned into the remote-side return value.
fn remote_value(ret: &Ret, refs: &Ident) -> TokenStream2 {
    let nexts: Vec<_> = ret.elems.iter().map(|_| quote!(#refs.next())).collect();
    match nexts.len() {
        1 => nexts[0].clone(),
        _ => quote!((#(#nexts,)*)),
    }
}

/// Statements that build `__wrun_args: Vec<Arg>` from the parameters.
fn build_args(name: &str, ps: &[Param]) -> TokenStream2 {
    let items = ps.iter().enumerate().map(|(i, p)| {
        let (ident, ty) = (&p.ident, &p.ty);
        quote!(::wrun::__private::arg::<#ty, _>(#name, #i, #ident)?)
    });
    quote!(let __wrun_args: ::std::vec::Vec<::wrun::Arg> = ::std::vec![#(#items),*];)
}

/// The remote side's parameters: each a `T` or a reference to one.
pub(crate) fn into_params(ps: &[Param]) -> Vec<TokenStream2> {
    ps.iter()
        .map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: impl ::wrun::IntoArg<#ty>)
        })
        .collect()
}

/// Statements that decode `__wrun_values` into the parameters.
pub(crate) fn decode_params(name: &str, ps: &[Param]) -> TokenStream2 {
    let n = ps.len();
    let decode = ps.iter().map(|p| {
        let (ident, ty) = (&p.ident, &p.ty);
        let m = p.mutable.then(|| quote!(mut));
        quote!(let #m #ident: #ty = __wrun_in.next()?;)
    });
    quote! {
        let mut __wrun_in = ::wrun::__private::Args::new(#name, __wrun_values, #n)?;
        #(#decode)*
    }
}

/// When the function returns a `Result`: the statement that turns its `Err`
/// into the call's application error.
pub(crate) fn unwrap_result(name: &str, is_result: bool) -> Option<TokenStream2> {
    is_result.then(|| {
        quote!(let __wrun_out = __wrun_out.map_err(|e| ::wrun::__private::app_error(#name, e))?;)
    })
}

/// Decodes the incoming arguments, calls `call`, and encodes its result.
fn run_body(name: &str, ps: &[Param], ret: &Ret, call: TokenStream2) -> TokenStream2 {
    let decode = decode_params(name, ps);
    let unwrap = unwrap_result(name, ret.is_result);
    let encode = match ret.elems.len() {
        0 => quote!(let _ = __wrun_out; ::std::result::Result::Ok(::std::vec::Vec::new())),
        1 => quote!(::std::result::Result::Ok(
            ::std::vec![::wrun::__private::ret(#name, &__wrun_out)?]
        )),
        k => {
            let outs: Vec<_> = (0..k).map(|i| format_ident!("__wrun_out{}", i)).collect();
            quote! {
                let (#(#outs,)*) = __wrun_out;
                ::std::result::Result::Ok(::std::vec![#(::wrun::__private::ret(#name, &#outs)?),*])
            }
        }
    };
    quote! {
        #decode
        let __wrun_out = #call;
        #unwrap
        #encode
    }
}

fn task_impl(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let mut num_returns: u32 = 1;
    let mut streaming = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("num_returns") {
            num_returns = meta.value()?.parse::<LitInt>()?.base10_parse()?;
            Ok(())
        } else if meta.path.is_ident("streaming") {
            streaming = true;
            Ok(())
        } else {
            Err(meta
                .error("wrun: unsupported task option; expected `num_returns = N` or `streaming`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    let func: ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    if !sig.generics.params.is_empty() || sig.asyncness.is_some() {
        return Err(syn::Error::new(
            sig.span(),
            "wrun: a task is a plain, non-generic, non-async fn",
        ));
    }
    let vis = &func.vis;
    let name = &sig.ident;
    let name_str = name.to_string();
    let opts = format_ident!("__WrunOptions_{}", name);
    let ps = params(sig)?;
    let refs = format_ident!("__wrun_refs");
    let idents: Vec<_> = ps.iter().map(|p| &p.ident).collect();
    let call = quote!(#name(#(#idents),*));
    let (rty, submit, body) = if streaming {
        if num_returns != 1 {
            return Err(syn::Error::new(
                sig.span(),
                "wrun: a streaming task has no num_returns (its items are its results)",
            ));
        }
        let ret = streaming::stream_returns(sig)?;
        let item = &ret.item;
        (
            quote!(::wrun::ObjectRefGenerator<#item>),
            quote!(::wrun::__private::submit_streaming::<#item>(#name_str, __wrun_args, &self.opts)),
            streaming::stream_body(&name_str, &ps, &ret, call),
        )
    } else {
        let ret = returns(sig, num_returns)?;
        let rval = remote_value(&ret, &refs);
        (
            remote_ret(&ret),
            quote! {{
                let mut #refs = ::wrun::__private::submit_returns(#name_str, __wrun_args, &self.opts)?;
                ::std::result::Result::Ok(#rval)
            }},
            run_body(&name_str, &ps, &ret, call),
        )
    };
    let into_params = into_params(&ps);
    let args = build_args(&name_str, &ps);
    let docs = func.attrs.iter().filter(|a| a.path().is_ident("doc"));
    Ok(quote! {
        #func

        #(#docs)*
        ///
        /// Remote side of this task (`#[wrun::task]`): `remote(..)` submits it.
        #[allow(non_camel_case_types)]
        #vis struct #name {
            _private: (),
        }

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #opts {
            opts: ::wrun::TaskOptions,
        }

        #[allow(clippy::too_many_arguments)]
        impl #name {
            /// The task's name, as the host knows it.
            pub const NAME: &'static str = #name_str;

            /// Submits the task with default options; returns at once.
            pub fn remote(#(#into_params),*) -> ::wrun::Result<#rty> {
                Self::options().remote(#(#idents),*)
            }

            /// Options for one submission; finish with `.remote(..)`.
            pub fn options() -> #opts {
                #opts { opts: ::wrun::TaskOptions::new(#num_returns) }
            }

            #[doc(hidden)]
            pub fn __run(
                __wrun_values: ::std::vec::Vec<::wrun::__private::wit::Value>,
            ) -> ::wrun::__private::WitResult<::std::vec::Vec<::wrun::__private::wit::Value>> {
                #body
            }
        }

        #[allow(clippy::too_many_arguments)]
        impl #opts {
            ::wrun::__task_option_methods!();

            /// Submits the task with these options; returns at once.
            pub fn remote(self, #(#into_params),*) -> ::wrun::Result<#rty> {
                #args
                #submit
            }
        }
    })
}
