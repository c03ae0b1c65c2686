package gosocketio

import (
	"bytes"
	"sync"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
)

// frameReader, okunan bir paketin verisidir. go-socket.io'nun çözücüsü
// ReadByte ve UnreadByte ister; bytes.Reader ikisini de verir, böylece
// çözücü her paket için kendi ara belleğini ayırmaz.
type frameReader struct{ *bytes.Reader }

func newFrameReader(data []byte) frameReader { return frameReader{bytes.NewReader(data)} }

func (frameReader) Close() error { return nil }

// committer, kapatılan bir yazıcının paketini gönderen bağlantıdır.
type committer interface {
	commit(w *frameWriter) error
}

// frameWriter, go-socket.io'nun yazdığı bir paketi toplar; ilk baytı
// paketin türüdür. WriteByte'ı olduğu için kodlayıcı her paket için 4
// KB'lık bir bufio.Writer ayırmaz. Kapatılınca paket bağlantıya gider ve
// yazıcı havuza döner.
type frameWriter struct {
	bytes.Buffer
	conn committer
	ft   frame.Type
	pt   packet.Type
}

var frameWriters = sync.Pool{New: func() any { return new(frameWriter) }}

// maxPooledWriter, havuza geri konan ara belleğin en büyük boyudur; büyük
// bir mesajın belleği havuzda tutulmaz.
const maxPooledWriter = 64 << 10

func newFrameWriter(c committer, ft frame.Type, pt packet.Type) *frameWriter {
	w := frameWriters.Get().(*frameWriter)
	w.conn, w.ft, w.pt = c, ft, pt
	if ft == frame.Binary {
		w.WriteByte(pt.BinaryByte())
	} else {
		w.WriteByte(pt.StringByte())
	}
	return w
}

// Close, paketi bağlantıya verir. İstemcinin istemediği bir onayı
// göndermez (strayAck'e bakın).
func (w *frameWriter) Close() error {
	var err error
	if !strayAck(w.ft, w.Bytes()) {
		err = w.conn.commit(w)
	}
	w.conn = nil
	if w.Cap() <= maxPooledWriter {
		w.Reset()
		frameWriters.Put(w)
	}
	return err
}

// strayAck, paketin istemcinin istemediği bir onay olup olmadığını
// söyler. go-socket.io v1.7.0, olay işleyicisi bir değer döndürünce
// istemci onay istemese de onay paketi yazar; paketin numarası olmadığı
// için istemci onu hiçbir çağrıya bağlayamaz ve atar. Numarasız onay
// Engine.IO mesajı "4", Socket.IO onayı "3", isteğe bağlı ad alanı
// ("/ad,") ve hemen ardından veridir ("["): 43["…"] ya da 43/ad,["…"].
// Onay isteyen istemciye giden onayda veriden önce numara vardır: 431["…"].
func strayAck(ft frame.Type, b []byte) bool {
	if ft != frame.String || len(b) < 3 || b[0] != packet.MESSAGE.StringByte() || b[1] != '3' {
		return false
	}
	rest := b[2:]
	if rest[0] == '/' {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	}
	return len(rest) > 0 && rest[0] == '['
}
