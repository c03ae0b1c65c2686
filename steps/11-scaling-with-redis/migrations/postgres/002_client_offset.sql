-- Adım 10: her mesaj, gönderen sayfanın verdiği istemci kimliğini
-- (clientOffset) taşır. Benzersiz dizin, aynı kimlikle ikinci kez gelen
-- mesajın saklanmasını veritabanının kendisine engelletir. Kimliği
-- olmayan mesajlar (önceki adımların istemcileri) NULL taşır; NULL'lar
-- birbirine eşit sayılmaz, çakışmaz.
ALTER TABLE messages ADD COLUMN client_offset TEXT;
CREATE UNIQUE INDEX messages_client_offset ON messages (client_offset);
