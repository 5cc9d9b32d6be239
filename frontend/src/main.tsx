import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, NavLink, Route, Routes } from "react-router";
import { WalletBar } from "./components/WalletBar";
import { Account } from "./pages/Account";
import { Cases } from "./pages/Cases";
import { Hits } from "./pages/Hits";
import { Licences } from "./pages/Licences";
import { Lookup } from "./pages/Lookup";
import { Market } from "./pages/Market";
import { MyImages } from "./pages/MyImages";
import { MyOffers } from "./pages/MyOffers";
import { NotFound } from "./pages/NotFound";
import { Operator, useOperator } from "./pages/Operator";
import { Respond } from "./pages/Respond";
import { Sale } from "./pages/Sale";
import { Sites } from "./pages/Sites";
import { Verify } from "./pages/Verify";
import { VerifyLicence } from "./pages/VerifyLicence";
import "./styles.css";
import { AppProvider } from "./wallet";

/** The operator's link, only for an address the API knows as an operator. */
function OperatorLink() {
  const operator = useOperator();
  return operator && operator !== "not-operator" ? <NavLink to="/operator">Operator</NavLink> : null;
}

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
          <NavLink to="/sites">My sites</NavLink>
          <NavLink to="/cases">Cases</NavLink>
          <NavLink to="/offers/mine">My offers</NavLink>
          <NavLink to="/sale">CPY sale</NavLink>
          <NavLink to="/market">Marketplace</NavLink>
          <NavLink to="/licences">My licences</NavLink>
          <NavLink to="/respond">Answer a letter</NavLink>
          <NavLink to="/account">Account</NavLink>
          <OperatorLink />
        </nav>
        <WalletBar />
      </header>
      <main id="main">
        <Routes>
          <Route path="/" element={<Lookup />} />
          <Route path="/verify/:id" element={<Verify />} />
          <Route path="/images" element={<MyImages />} />
          <Route path="/hits" element={<Hits />} />
          <Route path="/sites" element={<Sites />} />
          <Route path="/cases" element={<Cases />} />
          <Route path="/cases/:id" element={<Cases />} />
          <Route path="/offers/mine" element={<MyOffers />} />
          <Route path="/sale" element={<Sale />} />
          <Route path="/market" element={<Market />} />
          <Route path="/licences" element={<Licences />} />
          <Route path="/verify/licence/:id" element={<VerifyLicence />} />
          <Route path="/respond" element={<Respond />} />
          <Route path="/respond/:reference" element={<Respond />} />
          <Route path="/operator" element={<Operator />} />
          <Route path="/account" element={<Account />} />
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
