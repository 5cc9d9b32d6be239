import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, NavLink, Route, Routes } from "react-router";
import { WalletBar } from "./components/WalletBar";
import { Hits } from "./pages/Hits";
import { Lookup } from "./pages/Lookup";
import { MyImages } from "./pages/MyImages";
import { NotFound } from "./pages/NotFound";
import { Sale } from "./pages/Sale";
import { Verify } from "./pages/Verify";
import "./styles.css";
import { AppProvider } from "./wallet";

function App() {
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <NavLink to="/" className="brand">Copytrack</NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>Look up</NavLink>
          <NavLink to="/images">My images</NavLink>
          <NavLink to="/hits">Hits</NavLink>
          <NavLink to="/sale">CPY sale</NavLink>
        </nav>
        <WalletBar />
      </header>
      <main id="main">
        <Routes>
          <Route path="/" element={<Lookup />} />
          <Route path="/verify/:id" element={<Verify />} />
          <Route path="/images" element={<MyImages />} />
          <Route path="/hits" element={<Hits />} />
          <Route path="/sale" element={<Sale />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
      <footer className="foot">Copytrack — an open, self-hostable copyright register for images.</footer>
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <AppProvider>
        <App />
      </AppProvider>
    </BrowserRouter>
  </StrictMode>,
);
