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
            // A new order starts again at its first page.
            next.remove("page");
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

/// Page sizes a long table offers (`size` in the URL); the first is the default.
pub const PAGE_SIZES: &[usize] = &[50, 100, 200];

/// One page of `rows`: `page` is 1-based and clamped to the pages there are, `size` one of
/// [`PAGE_SIZES`] (else the default). Returns the rows of that page, the page and the size.
pub fn page_of<T>(rows: Vec<T>, page: Option<usize>, size: Option<usize>) -> (Vec<T>, usize, usize) {
    let size = size.filter(|s| PAGE_SIZES.contains(s)).unwrap_or(PAGE_SIZES[0]);
    let pages = rows.len().div_ceil(size).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    (rows.into_iter().skip((page - 1) * size).take(size).collect(), page, size)
}

/// "Rows 51–100 of 204", Previous/Next links and the page size, keeping every other URL
/// parameter (filters, sort), so a page can be shared and works without the WASM.
#[component]
pub fn Pager(total: usize, page: usize, size: usize) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let href = move |p: usize, s: usize| {
        query.with(|q| {
            let mut next = q.clone();
            next.replace("page", p.to_string());
            next.replace("size", s.to_string());
            next.to_query_string()
        })
    };
    let pages = total.div_ceil(size).max(1);
    let (from, to) = (((page - 1) * size + 1).min(total), (page * size).min(total));
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager">
            <span>{format!("Rows {from}–{to} of {total}")}</span>
            {(page > 1).then(|| view! { <a class="button small" href=href(page - 1, size) rel="prev">"Previous"</a> })}
            <span class="muted">{format!("page {page} of {pages}")}</span>
            {(page < pages).then(|| view! { <a class="button small" href=href(page + 1, size) rel="next">"Next"</a> })}
            <span class="pager-sizes">"Show "
                {PAGE_SIZES.iter().map(|&s| if s == size {
                    view! { <strong aria-current="true">{s}</strong> }.into_any()
                } else {
                    view! { <a href=href(1, s)>{s}</a> }.into_any()
                }).collect_view()}
                " a page"
            </span>
        </nav>
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

    #[test]
    fn pages_are_cut_from_the_sorted_rows_and_out_of_range_asks_are_clamped() {
        let rows: Vec<u32> = (1..=204).collect();
        let (p, page, size) = page_of(rows.clone(), None, None);
        assert_eq!((p.len(), p[0], p[49], page, size), (50, 1, 50, 1, 50));
        let (p, page, _) = page_of(rows.clone(), Some(5), Some(50));
        assert_eq!((p, page), (vec![201, 202, 203, 204], 5));
        let (p, page, _) = page_of(rows.clone(), Some(99), Some(100));
        assert_eq!((p.len(), p[0], page), (4, 201, 3));
        let (p, page, size) = page_of(rows.clone(), Some(0), Some(7));
        assert_eq!((p.len(), page, size), (50, 1, 50));
        let (p, page, _) = page_of(Vec::<u32>::new(), Some(3), None);
        assert_eq!((p.len(), page), (0, 1));
    }
}
