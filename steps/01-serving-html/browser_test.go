package main

import (
	"testing"

	"sohbet/internal/chattest"
)

// TestBrowserShowsTheChatPage opens the real program's page in headless
// Chromium: the list and the form are there, with Turkish labels, and the
// page logs no error and asks for nothing outside this machine.
func TestBrowserShowsTheChatPage(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	tab := b.NewTab(t, chattest.TabWidth, chattest.TabHeight)
	tab.Navigate(t, p.URL+"/")

	checks := []struct {
		name string
		expr string
	}{
		{"the page is Turkish", `document.documentElement.lang === "tr"`},
		{"the title is Sohbet", `document.title === "Sohbet"`},
		{"the message list is a ul", `document.querySelector("ul#messages") !== null`},
		{"the form holds the input and a button", `document.querySelector("form#form input#input") !== null && document.querySelector("#form button") !== null`},
		{"the button says Gönder", `document.querySelector("#form button").textContent.trim() === "Gönder"`},
		{"the input asks for a message in Turkish", `document.getElementById("input").placeholder === "Mesajınızı yazın"`},
		{"the form is visible at the bottom", `(() => { const r = document.getElementById("form").getBoundingClientRect(); return r.height > 0 && Math.round(r.bottom) === window.innerHeight; })()`},
		{"the list starts empty", `document.querySelectorAll("#messages li").length === 0`},
	}
	for _, c := range checks {
		if !chattest.Eval[bool](t, tab, c.expr) {
			t.Errorf("%s: %s is false", c.name, c.expr)
		}
	}
	tab.CheckNoErrors(t)
	tab.CheckNoDialogs(t)
	tab.CheckLocalOnly(t)

	// For the screenshot, a message waits in the box: this step has no
	// behaviour yet, so it is typed but not sent.
	tab.Type(t, "Merhaba! Bu sayfa Go ile sunuluyor.")
	chattest.SaveScreenshot(t, "01-serving-html", tab)
}
