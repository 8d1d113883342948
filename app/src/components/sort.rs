//! Sortable tables: the sort column and direction live in the URL (`sort`, `dir`), so a sorted
//! view can be shared, survives a reload, and the CSV export follows it.

use std::cmp::Ordering;

use leptos::prelude::*;

/// How two rows compare on one column.
pub type Compare<T> = fn(&T, &T) -> Ordering;

/// Sorts `rows` by the column named `key` (`dir` = `desc` reverses). An unknown or empty key
/// keeps the order the rows came in (each page's default).
pub fn sort_rows<T>(rows: &mut [T], columns: &[(&str, Compare<T>)], key: &str, dir: &str) {
    let Some((_, cmp)) = columns.iter().find(|(k, _)| *k == key) else { return };
    rows.sort_by(|a, b| if dir == "desc" { cmp(b, a) } else { cmp(a, b) });
}

/// Case-insensitive text order.
pub fn text(a: &str, b: &str) -> Ordering {
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// Ratios that may be undefined ("—"): undefined sorts lowest.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Ordering {
    a.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.unwrap_or(f64::NEG_INFINITY))
}

/// A column title that sorts the table by `key`, keeping every other URL parameter; clicking the
/// current column again reverses the order. The arrow says which column sorts and which way.
#[component]
pub fn SortLink(key: &'static str, title: &'static str) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let state = move || {
        query.with(|q| {
            let current = q.get_str("sort") == Some(key);
            let desc = q.get_str("dir") == Some("desc");
            let mut next = q.clone();
            next.replace("sort", key.to_owned());
            next.replace("dir", if current && !desc { "desc" } else { "asc" }.to_owned());
            (next.to_query_string(), current.then_some(desc))
        })
    };
    view! {
        <a href=move || state().0 class="sort-link">
            {title}
            {move || match state().1 { Some(true) => " ▼", Some(false) => " ▲", None => "" }}
        </a>
    }
}

/// Hidden inputs that carry the sort through a filter form's GET submission.
#[component]
pub fn KeepSort() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    view! {
        <input type="hidden" name="sort" value=get("sort")/>
        <input type="hidden" name="dir" value=get("dir")/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sort_by_the_named_column_either_way_and_unknown_keys_keep_the_order() {
        const COLS: &[(&str, Compare<(&str, i64)>)] = &[("name", |a, b| text(a.0, b.0)), ("n", |a, b| a.1.cmp(&b.1))];
        let mut rows = vec![("b", 1), ("A", 3), ("c", 2)];
        sort_rows(&mut rows, COLS, "nope", "desc");
        assert_eq!(rows, vec![("b", 1), ("A", 3), ("c", 2)]);
        sort_rows(&mut rows, COLS, "name", "");
        assert_eq!(rows, vec![("A", 3), ("b", 1), ("c", 2)]);
        sort_rows(&mut rows, COLS, "n", "desc");
        assert_eq!(rows, vec![("A", 3), ("c", 2), ("b", 1)]);
        assert_eq!(ratio(None, Some(-5.0)), Ordering::Less);
    }
}
