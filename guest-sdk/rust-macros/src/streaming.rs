//! Streaming tasks and methods (`#[wrun::task(streaming)]`, `#[streaming]`
//! on an actor method): the function returns an iterator, and each item it
//! produces is yielded to the caller as it comes.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, ReturnType, Signature, Type, TypeParamBound};

use crate::{decode_params, result_ok, unwrap_result, Param};

/// What a streaming function returns: an iterable (maybe in a `Result`)
/// of items, each maybe a `Result` (an `Err` item ends the stream with
/// that error).
pub(crate) struct StreamRet {
    is_result: bool,
    item_is_result: bool,
    /// The type of the values the caller reads.
    pub(crate) item: Type,
}

/// The `Item = T` of `impl Iterator<Item = T>`, `Box<dyn Iterator<Item =
/// T>>` and the like, or the `T` of `Vec<T>`.
fn iter_item(ty: &Type) -> Option<Type> {
    let bounds_item = |bounds: &syn::punctuated::Punctuated<TypeParamBound, syn::token::Plus>| {
        bounds.iter().find_map(|b| match b {
            TypeParamBound::Trait(t) => {
                let seg = t.path.segments.last()?;
                let PathArguments::AngleBracketed(args) = &seg.arguments else {
                    return None;
                };
                args.args.iter().find_map(|a| match a {
                    GenericArgument::AssocType(a) if a.ident == "Item" => Some(a.ty.clone()),
                    _ => None,
                })
            }
            _ => None,
        })
    };
    match ty {
        Type::ImplTrait(t) => bounds_item(&t.bounds),
        Type::TraitObject(t) => bounds_item(&t.bounds),
        Type::Path(p) => {
            let seg = p.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            let inner = args.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })?;
            match seg.ident.to_string().as_str() {
                "Vec" => Some(inner.clone()),
                "Box" => iter_item(inner),
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn stream_returns(sig: &Signature) -> syn::Result<StreamRet> {
    let bad = || {
        syn::Error::new(
            sig.output.span(),
            "wrun: a streaming task or method returns its items as `impl Iterator<Item = T>` (or a `Vec<T>`, a `Box<dyn Iterator<Item = T>>`, or a `Result` of one); an item that is a `Result` ends the stream with its error",
        )
    };
    let ReturnType::Type(_, ty) = &sig.output else {
        return Err(bad());
    };
    let (is_result, iter) = match result_ok(ty) {
        Some(ok) => (true, ok),
        None => (false, (**ty).clone()),
    };
    let item = iter_item(&iter).ok_or_else(bad)?;
    let (item_is_result, item) = match result_ok(&item) {
        Some(ok) => (true, ok),
        None => (false, item),
    };
    Ok(StreamRet {
        is_result,
        item_is_result,
        item,
    })
}

/// Decodes the arguments, calls `call` and yields each item it produces;
/// the call itself returns no values.
pub(crate) fn stream_body(
    name: &str,
    ps: &[Param],
    ret: &StreamRet,
    call: TokenStream2,
) -> TokenStream2 {
    let decode = decode_params(name, ps);
    let unwrap = unwrap_result(name, ret.is_result);
    let item = ret.item_is_result.then(|| {
        quote!(let __wrun_item = __wrun_item.map_err(|e| ::wrun::__private::app_error(#name, e))?;)
    });
    quote! {
        #decode
        let __wrun_out = #call;
        #unwrap
        for __wrun_item in __wrun_out {
            #item
            ::wrun::__private::yield_ret(#name, &__wrun_item)?;
        }
        ::std::result::Result::Ok(::std::vec::Vec::new())
    }
}
