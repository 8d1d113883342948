-- Every CSV upload of ZIP assignments: its counts, why a whole file was refused, and the
-- rejected rows (with the reason per row) for download. Keep in step with the PostgreSQL file.
CREATE TABLE zip_imports (
    id              INTEGER PRIMARY KEY,
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      TEXT    NOT NULL,
    file_name       TEXT    NOT NULL,
    rows_total      BIGINT  NOT NULL DEFAULT 0,
    assigned        BIGINT  NOT NULL DEFAULT 0,
    unchanged       BIGINT  NOT NULL DEFAULT 0,
    rejected        BIGINT  NOT NULL DEFAULT 0,
    failure         TEXT,                -- the whole file was refused (nothing assigned) because…
    rejected_csv    TEXT                 -- line, error, then the row's own cells
);
