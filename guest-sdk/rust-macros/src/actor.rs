//! `#[wrun::actor]`: an actor class from an inherent impl — its handle
//! type, the remote side of each `pub` method, and the runner that
//! dispatches calls by name.

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, ReturnType, Type, Visibility};

use crate::{
    build_args, decode_params, into_params, params, remote_ret, remote_value, result_ok, returns,
    run_body, streaming, unwrap_result,
};

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

pub(crate) fn actor_impl(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    if !attr.is_empty() {
        return Err(syn::Error::new(
            attr.span(),
            "wrun: #[wrun::actor] takes no options",
        ));
    }
    let mut imp: ItemImpl = syn::parse2(item)?;
    // `#[streaming]` marks a streaming method: taken off before the impl
    // is emitted again.
    let mut streaming_methods = Vec::new();
    for i in &mut imp.items {
        if let ImplItem::Fn(f) = i {
            let before = f.attrs.len();
            f.attrs.retain(|a| !a.path().is_ident("streaming"));
            if f.attrs.len() != before {
                streaming_methods.push(f.sig.ident.clone());
            }
        }
    }
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
    let cparams = into_params(&cps);
    let cargs = build_args(&ctor_name, &cps);
    let cdecode = decode_params(&ctor_name, &cps);
    let cunwrap = unwrap_result(&ctor_name, ctor_ret.is_result);

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
        let refs = format_ident!("__wrun_refs");
        let idents: Vec<_> = ps.iter().map(|p| &p.ident).collect();
        let call = quote!(self.#m(#(#idents),*));
        let (rty, invoke, body) = if streaming_methods.contains(m) {
            let ret = streaming::stream_returns(&f.sig)?;
            let item = &ret.item;
            (
                quote!(::wrun::ObjectRefGenerator<#item>),
                quote!(self.inner.call_streaming::<#item>(#m_str, __wrun_args)),
                streaming::stream_body(&full, &ps, &ret, call),
            )
        } else {
            let ret = returns(&f.sig, 1)?;
            let rval = remote_value(&ret, &refs);
            (
                remote_ret(&ret),
                quote! {{
                    let mut #refs = self.inner.call(#m_str, __wrun_args, 1)?;
                    ::std::result::Result::Ok(#rval)
                }},
                run_body(&full, &ps, &ret, call),
            )
        };
        let into_params = into_params(&ps);
        let args = build_args(&full, &ps);
        let docs = f.attrs.iter().filter(|a| a.path().is_ident("doc"));
        handle_methods.push(quote! {
            #(#docs)*
            ///
            /// Calls the method remotely; returns a reference to its result at once.
            #[allow(clippy::too_many_arguments)]
            pub fn #m(&self, #(#into_params),*) -> ::wrun::Result<#rty> {
                #args
                #invoke
            }
        });
        let runner = format_ident!("__wrun_call_{}", m);
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
                #cdecode
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
