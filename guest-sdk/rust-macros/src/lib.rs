//! Attribute macros of the wrun Rust guest SDK: `#[wrun::task]` and
//! `#[wrun::actor]`. Use them through the `wrun` crate, which re-exports them;
//! the generated code names `::wrun`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{
    parse_quote, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemFn, ItemImpl, LitInt,
    Pat, PathArguments, ReturnType, Signature, Type, Visibility,
};

/// Marks a function as a remote task.
///
/// `#[wrun::task]` or `#[wrun::task(num_returns = N)]`. Keeps the function
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
/// `pub` fns taking `&self` or `&mut self`. Generates `<Class>Handle`,
/// `<Class>::remote(..)` and `<Class>::options()`.
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(actor_impl(attr.into(), item.into()))
}

fn expand(r: syn::Result<TokenStream2>) -> TokenStream {
    match r {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// One parameter of a task, method or constructor.
struct Param {
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
fn result_ok(ty: &Type) -> Option<Type> {
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

/// Decodes the incoming arguments, calls `call`, and encodes its result.
fn run_body(name: &str, ps: &[Param], ret: &Ret, call: TokenStream2) -> TokenStream2 {
    let n = ps.len();
    let decode = ps.iter().map(|p| {
        let (ident, ty) = (&p.ident, &p.ty);
        let m = p.mutable.then(|| quote!(mut));
        quote!(let #m #ident: #ty = __wrun_in.next()?;)
    });
    let unwrap = ret.is_result.then(|| {
        quote!(let __wrun_out = __wrun_out.map_err(|e| ::wrun::__private::app_error(#name, e))?;)
    });
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
        let mut __wrun_in = ::wrun::__private::Args::new(#name, __wrun_values, #n)?;
        #(#decode)*
        let __wrun_out = #call;
        #unwrap
        #encode
    }
}

fn task_impl(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let mut num_returns: u32 = 1;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("num_returns") {
            num_returns = meta.value()?.parse::<LitInt>()?.base10_parse()?;
            Ok(())
        } else {
            Err(meta.error("wrun: unsupported task option; expected `num_returns = N`"))
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
    let ret = returns(sig, num_returns)?;
    let rty = remote_ret(&ret);
    let refs = format_ident!("__wrun_refs");
    let rval = remote_value(&ret, &refs);
    let idents: Vec<_> = ps.iter().map(|p| &p.ident).collect();
    let into_params: Vec<_> = ps
        .iter()
        .map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: impl ::wrun::IntoArg<#ty>)
        })
        .collect();
    let args = build_args(&name_str, &ps);
    let body = run_body(&name_str, &ps, &ret, quote!(#name(#(#idents),*)));
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
                let mut #refs = ::wrun::__private::submit(#name_str, __wrun_args, &self.opts)?;
                ::std::result::Result::Ok(#rval)
            }
        }
    })
}

fn has_receiver(f: &ImplItemFn) -> bool {
    matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)))
}

fn returns_self(f: &ImplItemFn, class: &Ident) -> bool {
    let ReturnType::Type(_, ty) = &f.sig.output else {
        return false;
    };
    let ty = result_ok(ty).unwrap_or_else(|| (**ty).clone());
    match ty {
        Type::Path(p) => p.path.is_ident("Self") || p.path.is_ident(class),
        _ => false,
    }
}

fn actor_impl(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    if !attr.is_empty() {
        return Err(syn::Error::new(
            attr.span(),
            "wrun: #[wrun::actor] takes no options",
        ));
    }
    let imp: ItemImpl = syn::parse2(item)?;
    if imp.trait_.is_some() || !imp.generics.params.is_empty() {
        return Err(syn::Error::new(
            imp.span(),
            "wrun: #[wrun::actor] goes on a plain inherent impl of a non-generic type",
        ));
    }
    let class = match &*imp.self_ty {
        Type::Path(p) if p.path.segments.len() == 1 => p.path.segments[0].ident.clone(),
        other => {
            return Err(syn::Error::new(
                other.span(),
                "wrun: expected `impl Name { .. }`",
            ))
        }
    };
    let class_str = class.to_string();
    let handle = format_ident!("{}Handle", class);
    let opts = format_ident!("__WrunOptions{}", class);

    let fns: Vec<&ImplItemFn> = imp
        .items
        .iter()
        .filter_map(|i| match i {
            ImplItem::Fn(f) => Some(f),
            _ => None,
        })
        .collect();
    let ctor = fns
        .iter()
        .find(|f| !has_receiver(f) && f.sig.ident == "new")
        .or_else(|| {
            fns.iter()
                .find(|f| !has_receiver(f) && returns_self(f, &class))
        })
        .ok_or_else(|| {
            syn::Error::new(
                imp.self_ty.span(),
                "wrun: an actor needs a constructor: a fn `new` or one returning Self",
            )
        })?;

    // Constructor.
    let ctor_ident = &ctor.sig.ident;
    let ctor_name = format!("{class_str}.{ctor_ident}");
    let cps = params(&ctor.sig)?;
    let ctor_ret = returns(&ctor.sig, 1)?;
    let cidents: Vec<_> = cps.iter().map(|p| &p.ident).collect();
    let cparams: Vec<_> = cps
        .iter()
        .map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: impl ::wrun::IntoArg<#ty>)
        })
        .collect();
    let cargs = build_args(&ctor_name, &cps);
    let cn = cps.len();
    let cdecode = cps.iter().map(|p| {
        let (ident, ty) = (&p.ident, &p.ty);
        let m = p.mutable.then(|| quote!(mut));
        quote!(let #m #ident: #ty = __wrun_in.next()?;)
    });
    let cunwrap = ctor_ret.is_result.then(|| {
        quote!(let __wrun_out = __wrun_out.map_err(|e| ::wrun::__private::app_error(#ctor_name, e))?;)
    });

    // Methods.
    let mut handle_methods = Vec::new();
    let mut runners = Vec::new();
    let mut arms = Vec::new();
    for f in fns.iter().filter(|f| has_receiver(f)) {
        if !matches!(f.vis, Visibility::Public(_)) {
            continue;
        }
        if let Some(FnArg::Receiver(r)) = f.sig.inputs.first() {
            if r.reference.is_none() {
                return Err(syn::Error::new(
                    r.span(),
                    "wrun: actor methods take &self or &mut self",
                ));
            }
        }
        let m = &f.sig.ident;
        let m_str = m.to_string();
        let full = format!("{class_str}.{m_str}");
        let ps = params(&f.sig)?;
        let ret = returns(&f.sig, 1)?;
        let rty = remote_ret(&ret);
        let refs = format_ident!("__wrun_refs");
        let rval = remote_value(&ret, &refs);
        let idents: Vec<_> = ps.iter().map(|p| &p.ident).collect();
        let into_params: Vec<_> = ps
            .iter()
            .map(|p| {
                let (ident, ty) = (&p.ident, &p.ty);
                quote!(#ident: impl ::wrun::IntoArg<#ty>)
            })
            .collect();
        let args = build_args(&full, &ps);
        let docs = f.attrs.iter().filter(|a| a.path().is_ident("doc"));
        handle_methods.push(quote! {
            #(#docs)*
            ///
            /// Calls the method remotely; returns a reference to its result at once.
            #[allow(clippy::too_many_arguments)]
            pub fn #m(&self, #(#into_params),*) -> ::wrun::Result<#rty> {
                #args
                let mut #refs = self.inner.call(#m_str, __wrun_args, 1)?;
                ::std::result::Result::Ok(#rval)
            }
        });
        let runner = format_ident!("__wrun_call_{}", m);
        let body = run_body(&full, &ps, &ret, quote!(self.#m(#(#idents),*)));
        runners.push(quote! {
            #[doc(hidden)]
            fn #runner(
                &mut self,
                __wrun_values: ::std::vec::Vec<::wrun::__private::wit::Value>,
            ) -> ::wrun::__private::WitResult<::std::vec::Vec<::wrun::__private::wit::Value>> {
                #body
            }
        });
        arms.push(quote!(#m_str => ::std::option::Option::Some(self.#runner(__wrun_values)),));
    }

    Ok(quote! {
        #imp

        /// Handle to a remote actor (`#[wrun::actor]`); cheap to copy and
        /// passable to tasks and methods as an ordinary argument.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct #handle {
            inner: ::wrun::ActorHandle,
        }

        impl ::wrun::serde::Serialize for #handle {
            fn serialize<S: ::wrun::serde::Serializer>(
                &self,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                ::wrun::serde::Serialize::serialize(&self.inner, s)
            }
        }

        impl<'de> ::wrun::serde::Deserialize<'de> for #handle {
            fn deserialize<D: ::wrun::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                ::std::result::Result::Ok(#handle {
                    inner: <::wrun::ActorHandle as ::wrun::serde::Deserialize<'de>>::deserialize(d)?,
                })
            }
        }

        impl #handle {
            /// A typed handle from an untyped one (the class is not checked).
            pub fn from_untyped(inner: ::wrun::ActorHandle) -> Self {
                #handle { inner }
            }

            /// The untyped handle.
            pub fn untyped(&self) -> ::wrun::ActorHandle {
                self.inner
            }

            /// The actor's id.
            pub fn id(&self) -> ::wrun::Id {
                self.inner.id()
            }

            /// Looks up a named actor, in `namespace` or the job's own.
            pub fn lookup(
                name: &str,
                namespace: ::std::option::Option<&str>,
            ) -> ::wrun::Result<::std::option::Option<Self>> {
                ::std::result::Result::Ok(
                    ::wrun::ActorHandle::lookup(name, namespace)?.map(Self::from_untyped),
                )
            }

            /// Kills the actor; pending and later calls fail with `actor-died`.
            pub fn kill(&self) -> ::wrun::Result<()> {
                self.inner.kill()
            }

            /// Kills the actor's instance and lets it restart (Ray's
            /// `kill(no_restart=False)`; see `ActorHandle::restart`).
            pub fn restart(&self) -> ::wrun::Result<()> {
                self.inner.restart()
            }

            #(#handle_methods)*
        }

        #[doc(hidden)]
        pub struct #opts {
            opts: ::wrun::ActorOptions,
        }

        #[allow(clippy::too_many_arguments)]
        impl #opts {
            ::wrun::__actor_option_methods!();

            /// Creates the actor with these options.
            pub fn remote(self, #(#cparams),*) -> ::wrun::Result<#handle> {
                #cargs
                ::wrun::ActorHandle::create(#class_str, __wrun_args, &self.opts)
                    .map(#handle::from_untyped)
            }
        }

        #[allow(clippy::too_many_arguments)]
        impl #class {
            /// Creates the actor remotely with default options.
            pub fn remote(#(#cparams),*) -> ::wrun::Result<#handle> {
                Self::options().remote(#(#cidents),*)
            }

            /// Options for creating the actor; finish with `.remote(..)`.
            pub fn options() -> #opts {
                #opts { opts: ::wrun::ActorOptions::new() }
            }

            #(#runners)*
        }

        impl ::wrun::__private::Actor for #class {
            const CLASS: &'static str = #class_str;

            fn construct(
                __wrun_values: ::std::vec::Vec<::wrun::__private::wit::Value>,
            ) -> ::wrun::__private::WitResult<Self> {
                let mut __wrun_in = ::wrun::__private::Args::new(#ctor_name, __wrun_values, #cn)?;
                #(#cdecode)*
                let __wrun_out = #class::#ctor_ident(#(#cidents),*);
                #cunwrap
                ::std::result::Result::Ok(__wrun_out)
            }

            fn call(
                &mut self,
                method: &str,
                __wrun_values: ::std::vec::Vec<::wrun::__private::wit::Value>,
            ) -> ::std::option::Option<
                ::wrun::__private::WitResult<::std::vec::Vec<::wrun::__private::wit::Value>>,
            > {
                match method {
                    #(#arms)*
                    _ => {
                        let _ = __wrun_values;
                        ::std::option::Option::None
                    }
                }
            }
        }
    })
}
