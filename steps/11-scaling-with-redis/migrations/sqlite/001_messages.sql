-- Herkese giden sohbet mesajları. AUTOINCREMENT, silinen bir kimliğin
-- bir daha verilmemesini sağlar: kimlikler hep artar.
CREATE TABLE messages (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    nick    TEXT    NOT NULL,
    text    TEXT    NOT NULL,
    sent_at INTEGER NOT NULL -- Unix zamanı, milisaniye
);
