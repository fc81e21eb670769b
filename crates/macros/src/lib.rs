//! `#[bounds]` on a request type: each field's `#[bound(...)]` is written once and becomes both
//! the `garde` rule that enforces it and the OpenAPI bound that documents it (`schema` on a body,
//! `param` on a query), so the two cannot drift apart. An `Option` field's rule applies to its
//! value when present (`garde(inner(...))`, once per `Option`).
//!
//! | `#[bound(...)]` | garde | OpenAPI |
//! | --- | --- | --- |
//! | `chars(min = 1, max = 100)` | `length(chars, min = 1, max = 100)` | `min_length`, `max_length` |
//! | `range(min = 1, max = 5)` | `range(min = 1, max = 5)` | `minimum`, `maximum` |
//! | `trimmed(min = 5, max = 500)` | `custom(trimmed(5, 500))` (blanks alone never pass) | `min_length`, `max_length` |
//!
//! Either end may be left out (`chars(max = 50)`, `range(min = 1)`). The values must be literals:
//! utoipa reads them as such.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Attribute, Field, Item, Meta, MetaNameValue, Token, parse_macro_input};

#[proc_macro_attribute]
pub fn bounds(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut item = parse_macro_input!(item as Item);
    let Item::Struct(strukt) = &mut item else {
        return syn::Error::new_spanned(&item, "#[bounds] goes on a struct").to_compile_error().into();
    };
    let query =
        strukt.attrs.iter().any(|a| a.path().is_ident("derive") && quote!(#a).to_string().contains("IntoParams"));
    for field in strukt.fields.iter_mut() {
        if let Err(error) = rewrite(field, query) {
            return error.to_compile_error().into();
        }
    }
    quote!(#item).into()
}

/// Replaces the field's `#[bound(...)]` with its `garde` and `schema`/`param` attributes.
fn rewrite(field: &mut Field, query: bool) -> syn::Result<()> {
    let Some(at) = field.attrs.iter().position(|a| a.path().is_ident("bound")) else { return Ok(()) };
    let bound = field.attrs.remove(at);
    let (rule, documented) = translate(&bound)?;
    let rule = (0..options(&field.ty)).fold(rule, |rule, _| quote!(inner(#rule)));
    let doc = if query { quote!(param) } else { quote!(schema) };
    field.attrs.push(syn::parse_quote!(#[garde(#rule)]));
    field.attrs.push(syn::parse_quote!(#[#doc(#documented)]));
    Ok(())
}

fn translate(bound: &Attribute) -> syn::Result<(Tokens, Tokens)> {
    let kind: Meta = bound.parse_args()?;
    let Meta::List(list) = &kind else {
        return Err(syn::Error::new_spanned(kind, "expected chars(...), range(...) or trimmed(...)"));
    };
    let ends = list.parse_args_with(Punctuated::<MetaNameValue, Token![,]>::parse_terminated)?;
    let end = |name: &str| ends.iter().find(|e| e.path.is_ident(name)).map(|e| e.value.clone());
    let (min, max) = (end("min"), end("max"));
    let pairs = |names: [&str; 2]| -> Tokens {
        let mut out = Vec::new();
        for (name, value) in names.iter().zip([&min, &max]) {
            if let Some(value) = value {
                let name = syn::Ident::new(name, proc_macro2::Span::call_site());
                out.push(quote!(#name = #value));
            }
        }
        quote!(#(#out),*)
    };
    let garde_ends = pairs(["min", "max"]);
    match list.path.get_ident().map(|i| i.to_string()).as_deref() {
        Some("chars") => Ok((quote!(length(chars, #garde_ends)), pairs(["min_length", "max_length"]))),
        Some("range") => Ok((quote!(range(#garde_ends)), pairs(["minimum", "maximum"]))),
        Some("trimmed") => {
            let (Some(min), Some(max)) = (&min, &max) else {
                return Err(syn::Error::new_spanned(list, "trimmed needs min and max"));
            };
            Ok((quote!(custom(crate::routes::rules::trimmed(#min, #max))), pairs(["min_length", "max_length"])))
        }
        _ => Err(syn::Error::new_spanned(&list.path, "expected chars, range or trimmed")),
    }
}

/// How many `Option`s wrap the field's value (`Option<Option<f64>>`: 2, for a field where
/// `null` and absent differ).
fn options(ty: &syn::Type) -> usize {
    let syn::Type::Path(path) = ty else { return 0 };
    let Some(last) = path.path.segments.last().filter(|s| s.ident == "Option") else { return 0 };
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(syn::GenericArgument::Type(inner)) => 1 + options(inner),
            _ => 1,
        },
        _ => 1,
    }
}
