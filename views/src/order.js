import { startView } from "./common.js";
import { orderView } from "./order-view.js";

startView("order", "Waiting for the order…", (order, app) => orderView(order, app));
