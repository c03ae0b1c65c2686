-- Herkese giden sohbet mesajları. Kimlikleri bir sıra (identity) verir;
-- silinen bir kimlik bir daha verilmez.
CREATE TABLE messages (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nick    TEXT   NOT NULL,
    text    TEXT   NOT NULL,
    sent_at BIGINT NOT NULL -- Unix zamanı, milisaniye
);
